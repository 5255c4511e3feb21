import type { INodeProperties } from 'n8n-workflow';
import { fetchFullRecordsOption, includeOption, simplifyOption } from '../../shared/records';

/**
 * The events the trigger can subscribe to. Values are amoCRM's webhook
 * settings, `{action}_{entity}`, and reappear as the `event` field of each
 * output item (src/webhook/subscription.rs keeps the same list).
 */
export const eventsProperty: INodeProperties = {
	displayName: 'Events',
	name: 'events',
	type: 'multiOptions',
	required: true,
	default: [],
	description:
		'What amoCRM should report. Each event becomes one output item with its type in "event", the record in "data" and the account in "account". Subscribing needs an amoCRM administrator.',
	options: [
		{ name: 'Company Added', value: 'add_company' },
		{ name: 'Company Deleted', value: 'delete_company', description: 'Carries only the ID' },
		{ name: 'Company Note Added', value: 'note_company' },
		{ name: 'Company Responsible Changed', value: 'responsible_company' },
		{ name: 'Company Restored', value: 'restore_company' },
		{ name: 'Company Updated', value: 'update_company' },
		{ name: 'Contact Added', value: 'add_contact' },
		{ name: 'Contact Deleted', value: 'delete_contact', description: 'Carries only the ID' },
		{ name: 'Contact Note Added', value: 'note_contact' },
		{ name: 'Contact Responsible Changed', value: 'responsible_contact' },
		{ name: 'Contact Restored', value: 'restore_contact' },
		{ name: 'Contact Updated', value: 'update_contact' },
		{ name: 'Customer Added', value: 'add_customer' },
		{ name: 'Customer Deleted', value: 'delete_customer', description: 'Carries only the ID' },
		{ name: 'Customer Note Added', value: 'note_customer' },
		{ name: 'Customer Responsible Changed', value: 'responsible_customer' },
		{ name: 'Customer Updated', value: 'update_customer' },
		{ name: 'Incoming Lead Accepted or Declined', value: 'delete_unsorted', description: 'Carries "action": accept or decline; the setting is not in amoCRM\'s documented list, see the README' },
		{ name: 'Incoming Lead Added', value: 'add_unsorted', description: 'A new incoming (unsorted) lead; the setting is not in amoCRM\'s documented list, see the README' },
		{ name: 'Incoming Lead Updated', value: 'update_unsorted', description: 'The setting is not in amoCRM\'s documented list, see the README' },
		{ name: 'Lead Added', value: 'add_lead' },
		{ name: 'Lead Deleted', value: 'delete_lead', description: 'Carries only the ID' },
		{ name: 'Lead Note Added', value: 'note_lead' },
		{ name: 'Lead Responsible Changed', value: 'responsible_lead', description: 'Includes the previous responsible user' },
		{ name: 'Lead Restored', value: 'restore_lead' },
		{ name: 'Lead Status Changed', value: 'status_lead', description: 'Moved to another stage or pipeline; includes the previous stage and pipeline' },
		{ name: 'Lead Updated', value: 'update_lead', description: 'Any change to the lead, status changes included' },
		{ name: 'Talk Started', value: 'add_talk', description: 'A chat conversation (talk) was opened' },
		{ name: 'Talk Updated', value: 'update_talk' },
		{ name: 'Task Added', value: 'add_task' },
		{ name: 'Task Deleted', value: 'delete_task', description: 'Carries only the ID' },
		{ name: 'Task Responsible Changed', value: 'responsible_task' },
		{ name: 'Task Updated', value: 'update_task', description: 'Any change, completion included' },
	],
};

export const optionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
		{
			displayName: 'Emit Unreadable Deliveries',
			name: 'emitUnreadable',
			type: 'boolean',
			default: false,
			description:
				'Whether a POST that is not an amoCRM webhook (malformed, empty, too large) starts the workflow with one item carrying "error" and the start of the body. Off: it is answered 200 and dropped, counted in the "meta" of the next delivery and logged at warn level.',
		},
		fetchFullRecordsOption,
		includeOption,
		{
			displayName: 'Normalize Field Names',
			name: 'normalize',
			type: 'boolean',
			default: true,
			description:
				'Whether to rename the old field names amoCRM webhooks use to the API v4 names used elsewhere (date_create → created_at, custom_fields → custom_fields_values, …) and turn IDs and timestamps into numbers. Off: the fields exactly as amoCRM sent them, every value as text.',
		},
		simplifyOption,
	],
};
