// The operations of the AmoCRM Account node, one list per resource, keyed as
// the core reads them (src/account_api). Descriptions only: every rule is
// the core's.

import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import { paging } from '../../shared/entity/fields';
import type { EntityOperation } from '../../shared/entity/operation';
import { customRequest } from '../../shared/entity/operations/customRequest';
import { EVENT_ENTITIES, EVENT_TYPES } from '../../shared/events';

const op = (value: string, name: string, action: string, description: string, params: string[], properties: INodeProperties[]): EntityOperation => ({
	option: { name, value, action, description },
	params,
	properties,
});

const text = (displayName: string, name: string, description: string, extra: Partial<INodeProperties> = {}): INodeProperties => ({
	displayName,
	name,
	type: 'string',
	default: '',
	description,
	...extra,
});
const num = (displayName: string, name: string, description: string, extra: Partial<INodeProperties> = {}): INodeProperties => ({
	displayName,
	name,
	type: 'number',
	default: 0,
	typeOptions: { minValue: 0 },
	description,
	...extra,
});
const bool = (displayName: string, name: string, description: string): INodeProperties => ({ displayName, name, type: 'boolean', default: false, description });
const required = (p: INodeProperties): INodeProperties => ({ ...p, required: true });
const collection = (name: 'additionalFields' | 'updateFields', options: INodeProperties[]): INodeProperties => ({
	displayName: name === 'additionalFields' ? 'Additional Fields' : 'Update Fields',
	name,
	type: 'collection',
	placeholder: 'Add Field',
	default: {},
	options,
});
const batchOptions: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			default: 50,
			typeOptions: { minValue: 1, maxValue: 250 },
			description: 'Records sent per request (amoCRM advises at most 50)',
		},
	],
};

/** `filter[value_before|value_after]`: what a change was from or to. */
function valueFilter(displayName: string, name: string): INodeProperties {
	return {
		displayName,
		name,
		type: 'collection',
		placeholder: 'Add Value',
		default: {},
		description: `Only changes whose value ${name === 'valueBefore' ? 'was' : 'became'} this`,
		options: [
			{ displayName: 'Custom Field Option IDs', name: 'customFieldEnumIds', type: 'string', default: '', description: 'For one custom_field_{ID}_value_changed type (comma-separated option IDs)' },
			{ displayName: 'Customer Status IDs', name: 'customerStatusIds', type: 'string', default: '', description: 'For Customer Status Changed (comma-separated)' },
			{ displayName: 'Lead Status Names or IDs', name: 'statuses', type: 'multiOptions', typeOptions: { loadOptionsMethod: 'getStatuses' }, default: [], description: 'For Lead Status Changed. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.' },
			{ displayName: 'Responsible User IDs', name: 'responsibleUserIds', type: 'string', default: '', description: 'For Responsible User Changed (comma-separated)' },
			{ displayName: 'Value', name: 'value', type: 'string', default: '', description: 'For Budget, Name, Purchases Total, NPS and custom field changes' },
		],
	};
}

const pipelinePicker: INodeProperties = {
	displayName: 'Pipeline Name or ID',
	name: 'pipelineId',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getPipelines' },
	default: '',
	required: true,
	description: 'The pipeline. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

const entityChoice = (catalogs: boolean): INodeProperties[] => [
	{
		displayName: 'Entity',
		name: 'entityType',
		type: 'options',
		default: 'leads',
		options: [
			{ name: 'Leads', value: 'leads' },
			{ name: 'Contacts', value: 'contacts' },
			{ name: 'Companies', value: 'companies' },
			{ name: 'Customers', value: 'customers' },
			...(catalogs ? [{ name: 'Catalog (List)', value: 'catalogs' }] : []),
		],
		description: 'Whose custom fields, groups or tags',
	},
	...(catalogs
		? [{ ...num('Catalog ID', 'catalogId', 'ID of the catalog (list)', { default: 0, displayOptions: { show: { entityType: ['catalogs'] } } }) }]
		: []),
];

/** Get Many, Get, Create, Update, Delete of a collection the core describes. */
function crud(
	noun: string,
	nouns: string,
	idParam: string,
	ops: string[],
	{
		scope = [],
		create = [],
		additional = [],
		update = [],
		withOptions,
	}: { scope?: INodeProperties[]; create?: INodeProperties[]; additional?: INodeProperties[]; update?: INodeProperties[]; withOptions?: INodePropertyOptions[] },
): EntityOperation[] {
	const scopeNames = scope.map((p) => p.name);
	const id = required(text(`${noun[0].toUpperCase()}${noun.slice(1)} ID`, idParam, `ID of the ${noun}`, { placeholder: '7000001' }));
	const all: Record<string, EntityOperation> = {
		getMany: op('getMany', 'Get Many', `List ${nouns}, returning one item per ${noun}`, `List ${nouns}; one item per ${noun}, every page with Return All`, [...scopeNames, 'returnAll', 'limit', 'options'], [
			...scope,
			...paging(),
			...(withOptions
				? [{ displayName: 'Options', name: 'options', type: 'collection' as const, placeholder: 'Add Option', default: {}, options: [{ displayName: 'Include', name: 'with', type: 'multiOptions' as const, default: [], options: withOptions, description: `Related data to embed in each ${noun}` }] }]
				: []),
		]),
		get: op('get', 'Get', `Get a ${noun} by ID, returning its fields`, `Get one ${noun} by ID`, [...scopeNames, idParam], [...scope, id]),
		create: op('create', 'Create', `Create ${nouns} in batches, returning each created ${noun}`, `Create ${nouns}; items are sent in batches and each returns the created ${noun}`, [...scopeNames, ...create.map((p) => p.name), 'additionalFields', 'options'], [
			...scope,
			...create,
			collection('additionalFields', additional),
			batchOptions,
		]),
		update: op('update', 'Update', `Update a ${noun} by ID, returning it`, `Change fields of a ${noun}`, [...scopeNames, idParam, 'updateFields', 'options'], [
			...scope,
			id,
			collection('updateFields', update),
		]),
		delete: op('delete', 'Delete', `Delete a ${noun} by ID, returning {id, deleted}`, `Delete a ${noun}; returns its ID and deleted: true`, [...scopeNames, idParam], [...scope, id]),
	};
	return ops.map((o) => all[o]);
}

const name = (placeholder: string) => required(text('Name', 'name', 'The name', { placeholder }));
const sort = num('Sort', 'sort', 'Position in lists: smaller comes first', { default: 10 });
const statusColor: INodeProperties = {
	displayName: 'Color',
	name: 'color',
	type: 'options',
	default: '#fffeb2',
	description: "One of amoCRM's status colours",
	options: [
		'#fffeb2', '#fffd7f', '#fff000', '#ffeab2', '#ffdc7f', '#ffce5a', '#ffdbdb', '#ffc8c8', '#ff8f92', '#d6eaff', '#c1e0ff',
		'#98cbff', '#ebffb1', '#deff81', '#87f2c0', '#f9deff', '#f3beff', '#ccc8f9', '#eb93ff', '#f2f3f4', '#e6e8ea',
	].map((c) => ({ name: c, value: c })),
};

const pipelineFields = [bool('Incoming Leads Stage', 'isUnsortedOn', 'Whether the pipeline has the incoming-leads (unsorted) stage'), bool('Main Pipeline', 'isMain', 'Whether this becomes the main pipeline')];

const fieldTypes = ['text', 'numeric', 'checkbox', 'select', 'multiselect', 'multitext', 'date', 'url', 'textarea', 'radiobutton', 'streetaddress', 'smart_address', 'birthday', 'legal_entity', 'date_time', 'price', 'category', 'items', 'tracking_data', 'linked_entity', 'chained_list', 'monetary', 'file', 'payer', 'supplier', 'org_legal_name'];
const fieldExtras: INodeProperties[] = [
	text('Code', 'code', 'A code to find the field by (such as UTM_SOURCE)'),
	sort,
	text('Group ID', 'groupId', 'The group (tab) to put the field in, such as leads_16281573493640'),
	bool('API Only', 'isApiOnly', 'Whether only the API may change the value'),
	text('Options', 'enums', 'The options of a list field, separated by commas (replaces the options on update)', { placeholder: 'Website, Phone, Referral' }),
	{
		displayName: 'Required in Status Names or IDs',
		name: 'requiredStatuses',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getStatuses' },
		default: [],
		description:
			'Lead statuses in which the field must be filled. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
];

const EVENTS = [
	'add_lead', 'update_lead', 'delete_lead', 'restore_lead', 'status_lead', 'responsible_lead', 'note_lead',
	'add_contact', 'update_contact', 'delete_contact', 'restore_contact', 'responsible_contact', 'note_contact',
	'add_company', 'update_company', 'delete_company', 'restore_company', 'responsible_company', 'note_company',
	'add_customer', 'update_customer', 'delete_customer', 'responsible_customer', 'note_customer',
	'add_task', 'update_task', 'delete_task', 'responsible_task', 'add_talk', 'update_talk', 'add_chat_template_review', 'add_message',
];

const destination = required(text('Destination URL', 'destination', 'The address amoCRM posts the events to', { placeholder: 'https://example.com/amocrm-hook' }));
const recordEntity: INodeProperties = {
	displayName: 'Entity',
	name: 'entityType',
	type: 'options',
	default: 'leads',
	options: [
		{ name: 'Lead', value: 'leads' },
		{ name: 'Contact', value: 'contacts' },
		{ name: 'Company', value: 'companies' },
		{ name: 'Customer', value: 'customers' },
	],
	description: 'What kind of record',
};
const recordId = required(num('Record ID', 'recordId', 'ID of the record', { default: 0 }));
const binaryProperty = text('Input Binary Field', 'binaryPropertyName', 'Name of the binary property holding the file', { default: 'data', required: true });

export const RESOURCES: Array<{ name: string; value: string; operations: EntityOperation[] }> = [
	{
		name: 'Account',
		value: 'account',
		operations: [
			op('checkConnection', 'Check Connection', 'Check the credential, returning the account and whether it works', "Make one authenticated request; returns the account's ID, subdomain and name, the credential's kind and connected: true or false", [], []),
			op('get', 'Get', 'Get the account, returning its settings and chosen extras', "Get the account's settings, with users' groups, task types, date and time settings, the drive URL and more", ['with'], [
				{
					displayName: 'Include',
					name: 'with',
					type: 'multiOptions',
					default: [],
					description: 'Extras amoCRM adds to the account',
					options: [
						{ name: 'Chat Rights', value: 'amojo_rights' },
						{ name: 'Chats ID', value: 'amojo_id' },
						{ name: 'Date and Time Settings', value: 'datetime_settings' },
						{ name: 'Drive URL', value: 'drive_url' },
						{ name: 'Entity Names', value: 'entity_names' },
						{ name: 'Filter API Enabled', value: 'is_api_filter_enabled' },
						{ name: 'Invoices Settings', value: 'invoices_settings' },
						{ name: 'Task Types', value: 'task_types' },
						{ name: 'Users Groups', value: 'users_groups' },
						{ name: 'Version', value: 'version' },
					],
				},
			]),
		],
	},
	{
		name: 'Pipeline',
		value: 'pipeline',
		operations: crud('pipeline', 'pipelines', 'pipelineId', ['getMany', 'get', 'create', 'update', 'delete'], {
			create: [name('Sales'), sort],
			additional: [...pipelineFields, text('Statuses', 'statuses', 'Names of the stages to create, separated by commas', { placeholder: 'New, Qualified, Proposal' })],
			update: [text('Name', 'name', 'New name'), sort, ...pipelineFields, bool('Archived', 'isArchive', 'Whether the pipeline is archived')],
		}),
	},
	{
		name: 'Pipeline Status',
		value: 'pipelineStatus',
		operations: crud('status', 'statuses', 'statusId', ['getMany', 'get', 'create', 'update', 'delete'], {
			scope: [pipelinePicker],
			create: [name('Qualified'), sort],
			additional: [statusColor],
			update: [text('Name', 'name', 'New name'), sort, statusColor],
			withOptions: [{ name: 'Descriptions', value: 'descriptions' }],
		}),
	},
	{
		name: 'User',
		value: 'user',
		operations: crud('user', 'users', 'userId', ['getMany', 'get', 'create'], {
			create: [name('Anna Smith'), required(text('Email', 'email', 'The e-mail the user signs in with', { placeholder: 'name@email.com' }))],
			additional: [
				text('Password', 'password', 'At least 6 characters with a digit, a lower- and an upper-case letter', { typeOptions: { password: true } }),
				text('Language', 'lang', 'ru, en or es', { placeholder: 'en' }),
				{ displayName: 'Rights (JSON)', name: 'rights', type: 'json', default: '', description: 'The user\'s rights object, as amoCRM documents it' },
			],
			withOptions: ['role', 'group', 'uuid', 'amojo_id', 'user_rank', 'phone_number'].map((v) => ({ name: v, value: v })),
		}),
	},
	{
		name: 'Role',
		value: 'role',
		operations: crud('role', 'roles', 'roleId', ['getMany', 'get'], { withOptions: [{ name: 'Users', value: 'users' }] }),
	},
	{
		name: 'Custom Field',
		value: 'customField',
		operations: crud('custom field', 'custom fields', 'fieldId', ['getMany', 'get', 'create', 'update', 'delete'], {
			scope: entityChoice(true),
			create: [name('Budget'), { displayName: 'Type', name: 'type', type: 'options', default: 'text', options: fieldTypes.map((t) => ({ name: t, value: t })), description: 'The type of the field' }],
			additional: fieldExtras,
			update: [text('Name', 'name', 'New name'), ...fieldExtras],
		}),
	},
	{
		name: 'Custom Field Group',
		value: 'fieldGroup',
		operations: [
			...crud('group', 'groups', 'groupId', ['getMany', 'create'], { scope: entityChoice(false), create: [name('Marketing'), sort] }),
			...['get', 'update', 'delete'].map((o) => {
				const groupId = required(text('Group ID', 'groupId', 'ID of the group', { placeholder: 'leads_16281573493640' }));
				const props = [...entityChoice(false), groupId];
				if (o === 'update') props.push(collection('updateFields', [text('Name', 'name', 'New name'), sort, text('Custom Field IDs', 'fieldIds', 'Fields to move into the group, separated by commas')]));
				const [nm, action] = o === 'get' ? ['Get', 'Get a group by ID, returning it'] : o === 'update' ? ['Update', 'Update a group by ID, returning it'] : ['Delete', 'Delete a group by ID, returning {id, deleted}'];
				return op(o, nm, action, action, props.map((p) => p.name), props);
			}),
		],
	},
	{
		name: 'Tag',
		value: 'tag',
		operations: [
			...crud('tag', 'tags', 'tagId', ['getMany', 'create'], {
				scope: entityChoice(false),
				create: [name('vip')],
				additional: [text('Color', 'color', 'Lead tags only: a hex colour of amoCRM\'s tag palette, such as DDEBB5')],
			}),
			op('delete', 'Delete', 'Take tags off records, returning each record changed', "Remove tags from records (amoCRM's API cannot delete a tag from the account)", ['entityType', 'recordId', 'tags'], [
				recordEntity,
				recordId,
				required(text('Tags', 'tags', 'Tag names or IDs separated by commas', { placeholder: 'vip, callback' })),
			]),
		],
	},
	{
		name: 'Loss Reason',
		value: 'lossReason',
		operations: crud('loss reason', 'loss reasons', 'lossReasonId', ['getMany', 'get', 'create', 'update', 'delete'], {
			create: [name('Too expensive')],
			additional: [sort],
			update: [text('Name', 'name', 'New name'), sort],
		}),
	},
	{
		name: 'Source',
		value: 'source',
		operations: crud('source', 'sources', 'sourceId', ['getMany', 'get', 'create', 'update', 'delete'], {
			create: [name('Web shop'), required(text('External ID', 'externalId', 'Your ID of the source, unique in the integration', { placeholder: 'shop-1' }))],
			additional: [num('Pipeline ID', 'pipelineId', 'Pipeline its leads go to'), bool('Default', 'default', 'Whether it is the default source'), text('Origin Code', 'originCode', 'The channel code')],
			update: [text('Name', 'name', 'New name'), num('Pipeline ID', 'pipelineId', 'Pipeline its leads go to'), bool('Default', 'default', 'Whether it is the default source')],
		}),
	},
	{
		name: 'Call',
		value: 'call',
		operations: [
			op('create', 'Add Call Log', 'Add call logs in batches, matched to contacts by phone, returning each call', "Add call logs; amoCRM files each on the contact or company with that phone (last 10 digits); a phone nobody has is an error for its item", ['direction', 'phone', 'duration', 'source', 'additionalFields', 'options'], [
				{ displayName: 'Direction', name: 'direction', type: 'options', default: 'inbound', options: [{ name: 'Inbound', value: 'inbound' }, { name: 'Outbound', value: 'outbound' }] },
				required(text('Phone', 'phone', 'The other party\'s phone', { placeholder: '+7 912 555-01-23' })),
				required(num('Duration (Seconds)', 'duration', 'How long the call lasted')),
				required(text('Source', 'source', 'Name of the telephony that logged it', { placeholder: 'pbx' })),
				collection('additionalFields', [
					text('Unique ID', 'uniq', 'The call\'s ID in the telephony'),
					text('Recording URL', 'link', 'Link to the recording'),
					text('Call Result', 'callResult', 'What came of the call'),
					num('Call Status', 'callStatus', '1 left message, 2 call back, 3 not in, 4 talked, 5 wrong number, 6 no answer, 7 busy', { default: 4 }),
					text('Call Responsible', 'callResponsible', 'User ID, phone or name of who took the call'),
				]),
				batchOptions,
			]),
		],
	},
	{
		name: 'Talk',
		value: 'talk',
		operations: [
			op('get', 'Get', 'Get a talk (chat conversation) by ID, returning it', 'Get a talk by ID', ['talkId'], [required(num('Talk ID', 'talkId', 'ID of the talk'))]),
			op('close', 'Close', 'Close a talk by ID, returning {id, closed}', 'Close a talk', ['talkId', 'forceClose'], [required(num('Talk ID', 'talkId', 'ID of the talk')), bool('Skip Rating Request', 'forceClose', 'Whether to close without asking the client for a rating')]),
		],
	},
	{
		name: 'Salesbot',
		value: 'salesbot',
		operations: ['run', 'stop'].map((o) =>
			op(o, o === 'run' ? 'Run' : 'Stop', o === 'run' ? 'Run a salesbot on a lead or contact, returning {started}' : 'Stop a salesbot on a lead or contact, returning {stopped}', o === 'run' ? 'Start a salesbot on a record' : 'Stop a salesbot running on a record', ['botId', 'entityType', 'entityId'], [
				required(num('Salesbot ID', 'botId', 'ID of the salesbot')),
				{ ...recordEntity, options: [{ name: 'Lead', value: 'leads' }, { name: 'Contact', value: 'contacts' }] },
				required(num('Record ID', 'entityId', 'ID of the lead or contact')),
			]),
		),
	},
	{
		name: 'Webhook',
		value: 'webhookSubscription',
		operations: [
			op('getMany', 'Get Many', 'List webhook subscriptions, returning one item per webhook', 'List the account\'s webhooks, optionally for one destination', ['destination'], [text('Destination URL', 'destination', 'Only webhooks to this address')]),
			op('subscribe', 'Subscribe', 'Subscribe a destination to events, returning the webhook', 'Send these events to an address; subscribing again replaces its events', ['destination', 'events', 'sort'], [
				destination,
				{ displayName: 'Events', name: 'events', type: 'multiOptions', default: [], required: true, options: EVENTS.map((e) => ({ name: e, value: e })), description: 'Events amoCRM posts' },
				num('Sort', 'sort', 'Delivery order', { default: 1, typeOptions: { minValue: 1 } }),
			]),
			op('unsubscribe', 'Unsubscribe', 'Remove a webhook by destination, returning {deleted}', 'Stop sending events to an address', ['destination'], [destination]),
		],
	},
	{
		name: 'File',
		value: 'file',
		operations: [
			op('upload', 'Upload', 'Upload a binary file to the drive and attach it to a record, returning the file', "Upload the item's binary file to amoCRM's drive in parts, and attach it to a lead, contact, company or customer", ['binaryPropertyName', 'fileName', 'attachTo', 'recordId'], [
				binaryProperty,
				text('File Name', 'fileName', 'Name in amoCRM, if not the binary file\'s own'),
				{ displayName: 'Attach To', name: 'attachTo', type: 'options', default: 'none', options: [{ name: 'Nothing', value: 'none' }, ...((recordEntity.options ?? []) as INodePropertyOptions[])] },
				{ ...recordId, displayOptions: { hide: { attachTo: ['none'] } } },
			]),
			op('getMany', 'Get Many', "List a record's files, returning one item per file", 'List the files attached to a record', ['entityType', 'recordId', 'returnAll', 'limit'], [recordEntity, recordId, ...paging()]),
			op('download', 'Download', 'Download a file by UUID, returning it as binary data', "Download a file from amoCRM's drive into the item's binary data", ['fileUuid', 'binaryPropertyName'], [
				required(text('File UUID', 'fileUuid', 'UUID of the file', { placeholder: '9cb6ac4a-a0f7-4c3d-b0a5-5b8a8b0d1c2e' })),
				text('Put Output File in Field', 'binaryPropertyName', 'Name of the binary property to put the file in', { default: 'data' }),
			]),
		],
	},
	{
		name: 'Event',
		value: 'event',
		operations: [
			op('getMany', 'Get Many', 'Filter the account\'s events, returning one item per event', "Read amoCRM's event feed: who changed what and when, with the value before and after; every page with Return All", ['returnAll', 'limit', 'filters', 'options'], [
				...paging(),
				{
					displayName: 'Filters',
					name: 'filters',
					type: 'collection',
					placeholder: 'Add Filter',
					default: {},
					description: "Sent in amoCRM's filter syntax; all filters must match",
					options: [
						{ displayName: 'Event Types', name: 'types', type: 'multiOptions', default: [], options: EVENT_TYPES, description: 'Only these types; none means every type' },
						{ displayName: 'Entities', name: 'entities', type: 'multiOptions', default: [], options: EVENT_ENTITIES, description: 'Only events about these kinds of record' },
						text('Entity IDs', 'entityIds', 'Only events about these records (at most 10, comma-separated; choose exactly one entity)', { placeholder: '20000001, 20000002' }),
						text('Created By (User IDs)', 'createdBy', 'Only events made by these users (at most 10, comma-separated)', { placeholder: '8000001' }),
						{ displayName: 'Created After', name: 'createdFrom', type: 'dateTime', default: '', description: 'Only events from this moment on' },
						{ displayName: 'Created Before', name: 'createdTo', type: 'dateTime', default: '', description: 'Only events up to this moment' },
						text('Event IDs', 'ids', 'Only these events (comma-separated)', { placeholder: '01pz58t6p1vxj8pgcfc6gzv6fc' }),
						valueFilter('Value Before', 'valueBefore'),
						valueFilter('Value After', 'valueAfter'),
					],
				},
				{
					displayName: 'Options',
					name: 'options',
					type: 'collection',
					placeholder: 'Add Option',
					default: {},
					options: [
						{
							displayName: 'Include',
							name: 'with',
							type: 'multiOptions',
							default: [],
							description: 'Names of the records each event is about',
							options: [
								{ name: 'Catalog Element Names', value: 'catalog_element_name' },
								{ name: 'Catalog Names', value: 'catalog_name' },
								{ name: 'Company Names', value: 'company_name' },
								{ name: 'Contact Names', value: 'contact_name' },
								{ name: 'Customer Names', value: 'customer_name' },
								{ name: 'Lead Names', value: 'lead_name' },
							],
						},
					],
				},
			]),
		],
	},
];

for (const r of RESOURCES) r.operations.push(customRequest());
