import type { INodePropertyOptions } from 'n8n-workflow';
import type { EntityUi } from '../descriptor';
import { locator } from '../descriptor';
import { paging, writeOptions } from '../fields';
import type { EntityOperation } from '../operation';

const NOTE_TYPES: INodePropertyOptions[] = [
	{ name: 'Incoming Call', value: 'call_in', description: 'A call record with phone, duration and result' },
	{ name: 'Outgoing Call', value: 'call_out', description: 'A call record with phone, duration and result' },
	{ name: 'Service Message', value: 'service_message', description: 'A note shown as coming from a service' },
	{ name: 'Text', value: 'common', description: 'An ordinary text note' },
];

export function notes(e: EntityUi): EntityOperation[] {
	return [
		{
			option: {
				name: 'Add Note',
				value: 'addNote',
				action: `Add a text or call note to a ${e.noun}, returning the note`,
				description: `Add a text, call or service note to a ${e.noun} (many items are sent in batches); returns the new note`,
			},
			params: [e.idParam, 'noteType', 'text', 'callDetails', 'options'],
			properties: [
				locator(e),
				{ displayName: 'Note Type', name: 'noteType', type: 'options', default: 'common', options: NOTE_TYPES },
				{
					displayName: 'Text',
					name: 'text',
					type: 'string',
					typeOptions: { rows: 3 },
					default: '',
					description: 'The note; for calls, the call result',
				},
				{
					displayName: 'Call Details',
					name: 'callDetails',
					type: 'collection',
					placeholder: 'Add Detail',
					default: {},
					displayOptions: { show: { noteType: ['call_in', 'call_out', 'service_message'] } },
					options: [
						{ displayName: 'Call ID', name: 'uniq', type: 'string', default: '', description: "Your telephony system's ID of the call" },
						{ displayName: 'Duration (Seconds)', name: 'duration', type: 'number', default: 0, typeOptions: { minValue: 0 } },
						{ displayName: 'Phone', name: 'phone', type: 'string', default: '', description: "The other party's number (required for calls)" },
						{ displayName: 'Recording URL', name: 'link', type: 'string', default: '' },
						{ displayName: 'Service', name: 'service', type: 'string', default: 'n8n', description: 'Name shown as the author of a service message' },
						{ displayName: 'Source', name: 'source', type: 'string', default: 'n8n', description: 'Telephony system name' },
					],
				},
				writeOptions(e),
			],
		},
		{
			option: {
				name: 'Get Notes',
				value: 'getNotes',
				action: `Get the notes of a ${e.noun}, one item per note`,
				description: `List the notes of a ${e.noun}, optionally of some types; returns one item per note`,
			},
			params: [e.idParam, 'returnAll', 'limit', 'filters'],
			properties: [
				locator(e),
				...paging(),
				{
					displayName: 'Filters',
					name: 'filters',
					type: 'collection',
					placeholder: 'Add Filter',
					default: {},
					options: [
						{
							displayName: 'Note Types',
							name: 'noteTypes',
							type: 'multiOptions',
							default: [],
							options: NOTE_TYPES.map(({ name, value }) => ({ name, value })),
						},
					],
				},
			],
		},
	];
}
