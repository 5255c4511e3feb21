import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { credentialSlots } from '../../shared/authentication';
import { listSearch, loadOptions, resourceMapping } from '../../shared/entity/methods';
import { entityProperties, operationMap } from '../../shared/entity/node';
import { create } from '../../shared/entity/operations/create';
import { customRequest } from '../../shared/entity/operations/customRequest';
import { get } from '../../shared/entity/operations/get';
import { getMany } from '../../shared/entity/operations/getMany';
import { links } from '../../shared/entity/operations/links';
import { notes } from '../../shared/entity/operations/notes';
import { update } from '../../shared/entity/operations/update';
import { executeOperation } from '../../shared/entity/router';
import { createComplex } from './createComplex.operation';
import { LEAD, LEAD_RECORD_EXAMPLE } from './lead';

const operations = [
	get(LEAD),
	getMany(LEAD),
	create(LEAD, LEAD_RECORD_EXAMPLE),
	createComplex,
	update(LEAD, LEAD_RECORD_EXAMPLE),
	...links(LEAD),
	...notes(LEAD),
	customRequest(),
];

export class AmoCrmLead implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'AmoCRM Lead',
		name: 'amoCrmLead',
		icon: { light: 'file:../../icons/amocrm.svg', dark: 'file:../../icons/amocrm.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": lead"}}',
		description:
			'Read and write amoCRM / Kommo leads: get, search and filter, create and update in batches, link contacts and companies, notes',
		defaults: { name: 'AmoCRM Lead' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: credentialSlots,
		properties: entityProperties(LEAD, operations),
	};

	methods = { listSearch, loadOptions, resourceMapping };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await executeOperation.call(this, 'lead', operationMap(operations));
	}
}
