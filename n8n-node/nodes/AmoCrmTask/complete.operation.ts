import type { EntityOperation } from '../../shared/entity/operation';
import { locator } from '../../shared/entity/descriptor';
import { writeOptions } from '../../shared/entity/fields';
import { TASK } from './task';

/** Complete: tasks marked done, with a result text, in batches (src/task/complete.rs). */
export const completeTask: EntityOperation = {
	option: {
		name: 'Complete',
		value: 'complete',
		action: 'Complete a task by ID with a result text, returning the completed task',
		description: 'Mark tasks as done, with an optional result text (many items are sent in batches); returns each completed task',
	},
	params: ['taskId', 'resultText', 'options'],
	properties: [
		locator(TASK),
		{
			displayName: 'Result',
			name: 'resultText',
			type: 'string',
			typeOptions: { rows: 2 },
			default: '',
			placeholder: 'Called; the client will pay on Friday',
			description: 'What came of the task, shown on its card once done; may be left empty',
		},
		writeOptions(TASK),
	],
};
