import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { authenticationProperty, credentialSlots } from '../../shared/authentication';
import * as lead from './actions/lead';
import { router } from './actions/router';
import { listSearch, loadOptions, resourceMapping } from './methods';

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
		properties: [
			authenticationProperty,
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'hidden',
				noDataExpression: true,
				default: 'lead',
			},
			...lead.description,
		],
	};

	methods = { listSearch, loadOptions, resourceMapping };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
