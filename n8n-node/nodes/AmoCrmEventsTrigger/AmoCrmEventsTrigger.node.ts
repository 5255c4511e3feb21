import {
	NodeConnectionTypes,
	type IDataObject,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
} from 'n8n-workflow';
import { authenticationProperty, credentialSlots } from '../../shared/authentication';
import { API_TYPE } from '../../shared/credentials';
import { fetchFullRecordsOption, includeOption, simplifyOption } from '../../shared/records';
import { runForAll } from '../../shared/transport';

/** The key of the last item of a poll: the cursor to save (src/event/poll.rs). */
const CURSOR_KEY = '$cursor';

interface PollOptions {
	createdBy?: string;
	fetchFullRecords?: boolean;
	with?: string[];
	simplify?: boolean;
}

/**
 * One poll: the core reads amoCRM's events since the saved cursor (all
 * pages, through the account's shared request budget), and hands back the
 * new ones, oldest first, and the cursor to save. The cursor is saved only
 * when the poll succeeded: a failed poll emits nothing and the next one
 * reads the same events again.
 */
async function poll(ctx: IPollFunctions): Promise<INodeExecutionData[][] | null> {
	const credentialType = ctx.getNodeParameter('authentication', API_TYPE) as string;
	const options = ctx.getNodeParameter('options', {}) as PollOptions;
	const staticData = ctx.getWorkflowStaticData('node');
	const startFrom = ctx.getNodeParameter('startFrom', 'now') as string;
	const params: IDataObject = {
		filters: {
			types: ctx.getNodeParameter('events', []) as string[],
			entities: ctx.getNodeParameter('entities', []) as string[],
			createdBy: options.createdBy ?? '',
		},
		cursor: (staticData.cursor as IDataObject | undefined) ?? null,
		startFrom,
		startDate: startFrom === 'date' ? (ctx.getNodeParameter('startDate', '') as string) : '',
		manual: ctx.getMode() === 'manual',
		fetchFullRecords: options.fetchFullRecords === true,
		with: options.with ?? [],
		simplify: options.simplify === true,
	};
	const items: INodeExecutionData[] = [];
	let cursor: IDataObject | undefined;
	for (const json of await runForAll(ctx, credentialType, { resource: 'event', operation: 'poll' }, params)) {
		if (CURSOR_KEY in json) cursor = json[CURSOR_KEY] as IDataObject;
		else items.push({ json });
	}
	if (cursor && ctx.getMode() !== 'manual') staticData.cursor = cursor;
	return items.length > 0 ? [items] : null;
}

export class AmoCrmEventsTrigger implements INodeType {
	description: INodeTypeDescription = {
		// n8n's node panel drops " Trigger" from a trigger's name: it lists this
		// one as "AmoCRM Events", beside the entity nodes.
		displayName: 'AmoCRM Events Trigger',
		name: 'amoCrmEventsTrigger',
		icon: { light: 'file:../../icons/amocrm.svg', dark: 'file:../../icons/amocrm.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].length ? $parameter["events"].join(", ") : "every event"}}',
		description:
			'Starts the workflow for new events in amoCRM / Kommo (leads, contacts, companies, customers, tasks, calls, notes…) by polling its event feed: no public URL needed',
		defaults: { name: 'AmoCRM Events Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: credentialSlots,
		properties: [
			authenticationProperty,
			{
				displayName:
					'Reads amoCRM\'s event feed (/api/v4/events) on the schedule below and emits each new event once, oldest first. Works from any n8n that can reach amoCRM, with no public URL and no webhook plan. Each poll costs one request when nothing happened.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				default: [],
				description: 'The event types to emit; none means every type. Each event becomes one item: its type, the record it is about (entity_type, entity_id), who made it and when, and value_before/value_after.',
				options: [
		{ name: 'Added to Retargeting', value: 'targeting_in_note_added' },
		{ name: 'Budget Changed', value: 'sale_field_changed' },
		{ name: 'Company Added', value: 'company_added' },
		{ name: 'Company Deleted', value: 'company_deleted' },
		{ name: 'Company Linked', value: 'company_linked' },
		{ name: 'Company Restored', value: 'company_restored' },
		{ name: 'Company Unlinked', value: 'company_unlinked' },
		{ name: 'Contact Added', value: 'contact_added' },
		{ name: 'Contact Deleted', value: 'contact_deleted' },
		{ name: 'Contact Linked', value: 'contact_linked' },
		{ name: 'Contact Restored', value: 'contact_restored' },
		{ name: 'Contact Unlinked', value: 'contact_unlinked' },
		{ name: 'Custom Field Value Changed', value: 'custom_field_value_changed' },
		{ name: 'Customer Added', value: 'customer_added' },
		{ name: 'Customer Deleted', value: 'customer_deleted' },
		{ name: 'Customer Linked', value: 'customer_linked' },
		{ name: 'Customer Status Changed', value: 'customer_status_changed' },
		{ name: 'Customer Unlinked', value: 'customer_unlinked' },
		{ name: 'File Added', value: 'attachment_note_added' },
		{ name: 'Geolocation Note Added', value: 'geo_note_added' },
		{ name: 'Incoming Call', value: 'incoming_call' },
		{ name: 'Incoming Chat Message', value: 'incoming_chat_message' },
		{ name: 'Incoming SMS', value: 'incoming_sms' },
		{ name: 'Internal Chat Message', value: 'entity_direct_message' },
		{ name: 'Key Action Completed', value: 'key_action_completed' },
		{ name: 'Lead Added', value: 'lead_added' },
		{ name: 'Lead Deleted', value: 'lead_deleted' },
		{ name: 'Lead Linked', value: 'lead_linked' },
		{ name: 'Lead Restored', value: 'lead_restored' },
		{ name: 'Lead Status Changed', value: 'lead_status_changed' },
		{ name: 'Lead Unlinked', value: 'lead_unlinked' },
		{ name: 'Link Followed', value: 'link_followed' },
		{ name: 'Message to Cashier', value: 'message_to_cashier_note_added' },
		{ name: 'Name Changed', value: 'name_field_changed' },
		{ name: 'Note Added', value: 'common_note_added' },
		{ name: 'Note Deleted', value: 'common_note_deleted' },
		{ name: 'NPS Rating Added', value: 'nps_rate_added' },
		{ name: 'Outgoing Call', value: 'outgoing_call' },
		{ name: 'Outgoing Chat Message', value: 'outgoing_chat_message' },
		{ name: 'Outgoing SMS', value: 'outgoing_sms' },
		{ name: 'Purchase Added', value: 'transaction_added' },
		{ name: 'Purchases Total Changed', value: 'ltv_field_changed' },
		{ name: 'Question Topic Identified', value: 'intent_identified' },
		{ name: 'Record Linked', value: 'entity_linked' },
		{ name: 'Record Unlinked', value: 'entity_unlinked' },
		{ name: 'Records Merged', value: 'entity_merged' },
		{ name: 'Removed From Retargeting', value: 'targeting_out_note_added' },
		{ name: 'Responsible User Changed', value: 'entity_responsible_changed' },
		{ name: 'Robot Replied', value: 'robot_replied' },
		{ name: 'System Note Added', value: 'service_note_added' },
		{ name: 'Tags Added', value: 'entity_tag_added' },
		{ name: 'Tags Removed', value: 'entity_tag_deleted' },
		{ name: 'Task Added', value: 'task_added' },
		{ name: 'Task Completed', value: 'task_completed' },
		{ name: 'Task Deadline Changed', value: 'task_deadline_changed' },
		{ name: 'Task Deleted', value: 'task_deleted' },
		{ name: 'Task Result Added', value: 'task_result_added' },
		{ name: 'Task Text Changed', value: 'task_text_changed' },
		{ name: 'Task Type Changed', value: 'task_type_changed' },
		{ name: 'Website Visit', value: 'site_visit_note_added' },
				],
			},
			{
				displayName: 'Entities',
				name: 'entities',
				type: 'multiOptions',
				default: [],
				description: 'Only events about these kinds of record; none means all',
				options: [
					{ name: 'Company', value: 'company' },
					{ name: 'Contact', value: 'contact' },
					{ name: 'Customer', value: 'customer' },
					{ name: 'Lead', value: 'lead' },
					{ name: 'Task', value: 'task' },
				],
			},
			{
				displayName: 'Start From',
				name: 'startFrom',
				type: 'options',
				default: 'now',
				description: 'Where the first poll after activation begins. Later polls go on from the last event emitted.',
				options: [
					{ name: 'Now', value: 'now', description: 'Only events from activation on; nothing older is emitted' },
					{ name: 'A Date', value: 'date', description: 'Every event since the date, on the first poll' },
				],
			},
			{
				displayName: 'Start Date',
				name: 'startDate',
				type: 'dateTime',
				default: '',
				required: true,
				displayOptions: { show: { startFrom: ['date'] } },
				description: 'The first poll emits every event since this date',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Created By (User IDs)',
						name: 'createdBy',
						type: 'string',
						default: '',
						placeholder: '8000001, 8000002',
						description: 'Only events made by these users (at most 10, comma-separated)',
					},
					fetchFullRecordsOption,
					includeOption,
					simplifyOption,
				],
			},
		],
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		return await poll(this);
	}
}
