import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import { leadLocator } from '../common.descriptions';
import { batchOptions } from '../fields.descriptions';

/** Parameters the core reads for this operation (src/lead/notes.rs). */
export const params = ['leadId', 'noteType', 'text', 'callDetails', 'options'];

const properties: INodeProperties[] = [
	leadLocator,
	{
		displayName: 'Note Type',
		name: 'noteType',
		type: 'options',
		default: 'common',
		options: [
			{ name: 'Incoming Call', value: 'call_in', description: 'A call record with phone, duration and result' },
			{ name: 'Outgoing Call', value: 'call_out', description: 'A call record with phone, duration and result' },
			{ name: 'Service Message', value: 'service_message', description: 'A note shown as coming from a service' },
			{ name: 'Text', value: 'common', description: 'An ordinary text note' },
		],
	},
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
			{ displayName: 'Call ID', name: 'uniq', type: 'string', default: '', description: 'Your telephony system\'s ID of the call' },
			{ displayName: 'Duration (Seconds)', name: 'duration', type: 'number', default: 0, typeOptions: { minValue: 0 } },
			{ displayName: 'Phone', name: 'phone', type: 'string', default: '', description: 'The other party\'s number (required for calls)' },
			{ displayName: 'Recording URL', name: 'link', type: 'string', default: '' },
			{ displayName: 'Service', name: 'service', type: 'string', default: 'n8n', description: 'Name shown as the author of a service message' },
			{ displayName: 'Source', name: 'source', type: 'string', default: 'n8n', description: 'Telephony system name' },
		],
	},
	batchOptions,
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['addNote'] } }, properties);
