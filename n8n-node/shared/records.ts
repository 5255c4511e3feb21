// Options shared by both triggers: Fetch Full Records (src/event/enrich.rs)
// with its Include and Simplify.

import type { INodeProperties } from 'n8n-workflow';

export const fetchFullRecordsOption: INodeProperties = {
	displayName: 'Fetch Full Records',
	name: 'fetchFullRecords',
	type: 'boolean',
	default: false,
	description:
		'Whether to re-read the record each event is about, in the API v4 shape the Lead, Contact and Company nodes return, into "record" (null when it was deleted). One request per entity type for all the events at once, not one per event.',
};

export const includeOption: INodeProperties = {
	displayName: 'Include',
	name: 'with',
	type: 'multiOptions',
	default: [],
	description: 'Related data to embed in each full record, where its entity type has it (Fetch Full Records)',
	options: [
		{ name: 'Catalog Elements', value: 'catalog_elements' },
		{ name: 'Companies', value: 'companies' },
		{ name: 'Contacts', value: 'contacts' },
		{ name: 'Customers', value: 'customers' },
		{ name: 'Leads', value: 'leads' },
		{ name: 'Loss Reason', value: 'loss_reason' },
		{ name: 'Source ID', value: 'source_id' },
	],
};

export const simplifyOption: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	default: false,
	description:
		'Whether to flatten each full record: custom fields as {name: value}, tags as names, linked records as IDs (Fetch Full Records)',
};
