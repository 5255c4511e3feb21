import type { INodeProperties } from 'n8n-workflow';
import * as addNote from './addNote.operation';
import * as create from './create.operation';
import * as createComplex from './createComplex.operation';
import * as customRequest from './customRequest.operation';
import * as get from './get.operation';
import * as getLinks from './getLinks.operation';
import * as getMany from './getMany.operation';
import * as getNotes from './getNotes.operation';
import * as link from './link.operation';
import * as update from './update.operation';

export interface LeadOperation {
	/** Names of the node parameters the core reads for the operation. */
	params: string[];
	/** The core's resource and operation, when they differ from the node's. */
	core?: { resource: 'lead' | 'request'; operation: string };
}

export const operations: Record<string, LeadOperation> = {
	addNote,
	create,
	createComplex,
	customRequest: { ...customRequest, core: { resource: 'request', operation: 'send' } },
	get,
	getLinks,
	getMany,
	getNotes,
	link,
	unlink: link,
	update,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['lead'] } },
		options: [
			{
				name: 'Add Note',
				value: 'addNote',
				action: 'Add a note to a lead',
				description: 'Add a text, call or service note to a lead (many items are sent in batches)',
			},
			{
				name: 'Create',
				value: 'create',
				action: 'Create a lead',
				description: 'Create leads, up to 250 per request, each paired with its input item',
			},
			{
				name: 'Create with Contact and Company',
				value: 'createComplex',
				action: 'Create a lead with a new contact and company',
				description: 'Create a lead together with a new contact and company in one request (amoCRM "complex" create)',
			},
			{
				name: 'Custom API Call',
				value: 'customRequest',
				action: 'Make a custom API call',
				description: "Call any amoCRM API v4 path with this credential, rate limit and error handling",
			},
			{
				name: 'Get',
				value: 'get',
				action: 'Get a lead',
				description: 'Get one lead by ID or URL, optionally with its contacts, loss reason and more',
			},
			{
				name: 'Get Links',
				value: 'getLinks',
				action: 'Get the links of a lead',
				description: 'List the contacts, companies and catalog elements linked to a lead',
			},
			{
				name: 'Get Many',
				value: 'getMany',
				action: 'Get many leads',
				description: 'Search and filter leads by status, user, dates, price, custom fields and more',
			},
			{
				name: 'Get Notes',
				value: 'getNotes',
				action: 'Get the notes of a lead',
				description: 'List the notes of a lead',
			},
			{
				name: 'Link',
				value: 'link',
				action: 'Link contacts or companies to a lead',
				description: 'Link existing contacts, companies or catalog elements to a lead',
			},
			{
				name: 'Unlink',
				value: 'unlink',
				action: 'Unlink contacts or companies from a lead',
				description: 'Remove links between a lead and contacts, companies or catalog elements',
			},
			{
				name: 'Update',
				value: 'update',
				action: 'Update a lead',
				description: 'Change fields, status, responsible user, tags or custom fields of leads, in batches',
			},
		],
		default: 'get',
	},
	...addNote.description,
	...create.description,
	...createComplex.description,
	...customRequest.description,
	...get.description,
	...getLinks.description,
	...getMany.description,
	...getNotes.description,
	...link.description,
	...update.description,
];
