import type { INodeProperties } from 'n8n-workflow';
import * as get from './get.operation';

export interface LeadOperation {
	/** Names of the node parameters the core reads for the operation. */
	params: string[];
	description: INodeProperties[];
}

export const operations: Record<string, LeadOperation> = { get };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['lead'] } },
		options: [
			{
				name: 'Get',
				value: 'get',
				action: 'Get a lead',
				description: 'Get one lead by ID or URL, optionally with its contacts, loss reason and more',
			},
		],
		default: 'get',
	},
	...get.description,
];
