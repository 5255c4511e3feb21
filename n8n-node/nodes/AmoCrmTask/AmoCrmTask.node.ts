import { entityNode } from '../../shared/entity/node';
import { create } from '../../shared/entity/operations/create';
import { customRequest } from '../../shared/entity/operations/customRequest';
import { get } from '../../shared/entity/operations/get';
import { getMany } from '../../shared/entity/operations/getMany';
import { update } from '../../shared/entity/operations/update';
import { completeTask } from './complete.operation';
import { TASK, TASK_RECORD_EXAMPLE } from './task';

export class AmoCrmTask extends entityNode(
	{
		displayName: 'AmoCRM Task',
		name: 'amoCrmTask',
		subtitle: '={{$parameter["operation"] + ": task"}}',
		description:
			'Read and write amoCRM / Kommo tasks: create in batches with a deadline (a date, in N hours, end of day), update, complete with a result, get, filter',
	},
	TASK,
	[get(TASK), getMany(TASK), create(TASK, TASK_RECORD_EXAMPLE), update(TASK, TASK_RECORD_EXAMPLE), completeTask, customRequest()],
) {}
