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
import { EVENT_ENTITIES, EVENT_TYPES } from '../../shared/events';
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
				options: EVENT_TYPES,
			},
			{
				displayName: 'Entities',
				name: 'entities',
				type: 'multiOptions',
				default: [],
				description: 'Only events about these kinds of record; none means all',
				options: EVENT_ENTITIES,
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
