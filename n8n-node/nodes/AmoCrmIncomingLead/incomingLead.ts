// The AmoCRM Incoming Lead node's description: amoCRM's "unsorted", the
// web forms and calls waiting in a pipeline's first stage until a manager
// accepts, declines or links them. The core's src/unsorted reads these
// parameters; nothing here knows amoCRM.

import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { accountOption, customFields, dateRange, filtersCollection, responsibleUser, tagsOnCreate, writeOptions } from '../../shared/entity/fields';
import { getMany as sharedGetMany } from '../../shared/entity/operations/getMany';
import { customRequest } from '../../shared/entity/operations/customRequest';
import type { EntityOperation } from '../../shared/entity/operation';
import { newCompany, newContact } from '../AmoCrmLead/createComplex.operation';
import { LEAD, price } from '../AmoCrmLead/lead';

const pipeline = (description: string) => accountOption('Pipeline Name or ID', 'pipelineId', 'getPipelines', description);

export const INCOMING_LEAD: EntityUi = {
	resource: 'unsorted',
	noun: 'incoming lead',
	nouns: 'incoming leads',
	label: 'Incoming Lead',
	labels: 'Incoming Leads',
	idParam: 'uid',
	example: 'Website request',
	include: [],
	sortBy: [
		{ name: 'Created At', value: 'created_at' },
		{ name: 'Updated At', value: 'updated_at' },
	],
	filters: [
		{
			displayName: 'Categories',
			name: 'categories',
			type: 'multiOptions',
			default: [],
			options: [
				{ name: 'Calls', value: 'sip' },
				{ name: 'Chats', value: 'chats' },
				{ name: 'E-Mails', value: 'mail' },
				{ name: 'Forms', value: 'forms' },
			],
		},
		pipeline('Only incoming leads of this pipeline.'),
	],
	createPrimary: [],
	createFields: [],
	updateFields: [],
	notes: false,
	tags: false,
	customFields: true,
	writeSummary: 'the lead, contact and company of a form or a call',
	writeOptions: [
		{
			displayName: 'Source Name',
			name: 'sourceName',
			type: 'string',
			default: 'n8n',
			description: 'Where the requests come from, as amoCRM shows it (a site, a telephony service)',
		},
		{
			displayName: 'Source UID',
			name: 'sourceUid',
			type: 'string',
			default: '',
			description: "Your ID of that source; empty means the form's ID, or the call's ID",
		},
	],
};

const uid: INodeProperties = {
	displayName: 'Incoming Lead UID',
	name: 'uid',
	type: 'string',
	default: '',
	required: true,
	placeholder: '98fb033cefde74f5de1a5d3980a2a2d108037',
	description: 'The uid of the incoming lead, as Create or Get Many output it',
};

const asUser = accountOption(
	'As User Name or ID',
	'userId',
	'getUsers',
	'The amoCRM user on whose behalf this is done; empty means the user of the credential.',
);

/** The lead, contact and company an incoming lead brings, and where it lands. */
const broughtAlong: INodeProperties[] = [
	pipeline('The pipeline whose "unsorted" stage receives the incoming lead; empty means the main pipeline.'),
	{
		displayName: 'Lead Name',
		name: 'name',
		type: 'string',
		default: '',
		placeholder: 'Website request',
		description: 'Name of the lead; amoCRM names it when empty',
	},
	{ ...newContact, description: 'The contact the request comes from, created with it (amoCRM shows it once the incoming lead is accepted)' },
	{ ...newCompany, description: 'The company the request comes from, created with it' },
	{
		displayName: 'Lead Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [price, responsibleUser(LEAD), tagsOnCreate(LEAD)],
	},
	...customFields(LEAD),
	writeOptions(INCOMING_LEAD),
];
const broughtParams = ['pipelineId', 'name', 'contact', 'company', 'additionalFields', 'customFields', 'options'];

const text = (displayName: string, name: string, description: string, extra: Partial<INodeProperties> = {}): INodeProperties => ({
	displayName,
	name,
	type: 'string',
	default: '',
	description,
	...extra,
});

const createForm: EntityOperation = {
	option: {
		name: 'Create From a Form',
		value: 'createForm',
		action: 'Create an incoming lead from a web form',
		description:
			"Create incoming leads from web form submissions (form ID, name, page, sender IP, time sent) with their lead, contact and company, in batches; returns each one's uid and the IDs of its lead, contact and company",
	},
	params: ['formId', 'formName', 'formPage', 'ip', 'sentAt', 'referer', ...broughtParams],
	properties: [
		text('Form ID', 'formId', "Your form's ID", { required: true, placeholder: 'callback-form' }),
		text('Form Name', 'formName', 'The name amoCRM shows for the form', { required: true, placeholder: 'Call me back' }),
		text('Form Page', 'formPage', 'The address of the page the form is on', { required: true, placeholder: 'https://example.com/contacts' }),
		text('Sender IP', 'ip', 'The IP address the form was sent from', { placeholder: '192.0.2.10' }),
		{ displayName: 'Sent At', name: 'sentAt', type: 'dateTime', default: '', description: 'When the form was sent; empty means now' },
		text('Referer', 'referer', 'The page the visitor came from', { placeholder: 'https://www.google.com/' }),
		...broughtAlong,
	],
};

const createSip: EntityOperation = {
	option: {
		name: 'Create From a Call (SIP)',
		value: 'createSip',
		action: 'Create an incoming lead from a call',
		description:
			"Create incoming leads from incoming calls (caller, callee, duration, recording, service code) with their lead, contact and company, in batches; returns each one's uid and the IDs of its lead, contact and company",
	},
	params: ['from', 'to', 'duration', 'link', 'serviceCode', 'callId', 'calledAt', 'addCallEvent', ...broughtParams],
	properties: [
		text('From', 'from', 'The phone number that called', { required: true, placeholder: '+7 900 123-45-67' }),
		text('To', 'to', 'Whom the call was for: an amoCRM user ID, a phone number or a name'),
		{ displayName: 'Duration (Seconds)', name: 'duration', type: 'number', default: 0, typeOptions: { minValue: 0 }, required: true },
		text('Recording URL', 'link', 'Link to the recording of the call', { required: true, placeholder: 'https://pbx.example.com/records/1.mp3' }),
		text('Service Code', 'serviceCode', 'The code of the telephony service the call came through', { required: true, placeholder: 'my_pbx' }),
		text('Call ID', 'callId', "Your telephony system's unique ID of the call", { required: true }),
		{ displayName: 'Called At', name: 'calledAt', type: 'dateTime', default: '', description: 'When the call was made; empty means now' },
		{
			displayName: 'Add Call Event',
			name: 'addCallEvent',
			type: 'boolean',
			default: true,
			description: 'Whether amoCRM adds an incoming call event to the lead card',
		},
		...broughtAlong,
	],
};

const get: EntityOperation = {
	option: {
		name: 'Get',
		value: 'get',
		action: 'Get an incoming lead by uid',
		description: 'Get one incoming lead that is waiting, by uid; returns it with its metadata and the IDs of its lead, contact and company',
	},
	params: ['uid'],
	properties: [uid],
};

/** The shared Get Many, without what incoming leads lack: a search and Simplify. */
const many = sharedGetMany(INCOMING_LEAD);
const getMany: EntityOperation = {
	option: {
		name: 'Get Many',
		value: 'getMany',
		action: 'Get many incoming leads by category and pipeline',
		description: 'List the incoming leads waiting, by category (forms, calls, e-mails, chats) and pipeline; returns one item per incoming lead, every page with Return All',
	},
	params: ['returnAll', 'limit', 'filters', 'options'],
	properties: many.properties.filter((p) => p.name !== 'query' && p.name !== 'simplify'),
};

const accept: EntityOperation = {
	option: {
		name: 'Accept',
		value: 'accept',
		action: 'Accept an incoming lead',
		description:
			'Accept an incoming lead by uid into a stage of its pipeline, as a user; returns its uid, accepted true and its lead, contact and company IDs, or accepted false with the reason when it was already accepted or declined',
	},
	params: ['uid', 'status', 'userId'],
	properties: [
		uid,
		accountOption(
			'Status Name or ID',
			'status',
			'getStatuses',
			"The stage the lead moves to, in the incoming lead's own pipeline; empty means its first stage.",
		),
		asUser,
	],
};

const decline: EntityOperation = {
	option: {
		name: 'Decline',
		value: 'decline',
		action: 'Decline an incoming lead',
		description:
			'Decline an incoming lead by uid: its lead, contact and company go to the trash; returns its uid and declined true, or declined false with the reason when it was already processed',
	},
	params: ['uid', 'userId'],
	properties: [uid, asUser],
};

const link: EntityOperation = {
	option: {
		name: 'Link to a Lead',
		value: 'link',
		action: 'Link an incoming lead to an existing lead',
		description:
			"Link an incoming chat or e-mail by uid to an existing lead: its contact joins the lead, and the incoming lead's own lead is dropped; returns its uid and linked true",
	},
	params: ['uid', 'leadId', 'contactId', 'userId'],
	properties: [
		uid,
		text('Lead', 'leadId', 'The existing lead, by ID or card URL', { required: true, placeholder: '20000005' }),
		text('Contact ID', 'contactId', 'A contact of that lead to add the incoming contact to (optional)', { placeholder: '40000001' }),
		asUser,
	],
};

const summary: EntityOperation = {
	option: {
		name: 'Summary',
		value: 'summary',
		action: 'Get a summary of incoming leads',
		description: 'Count incoming leads: total, accepted, declined, average time to sort, and per category; returns one item',
	},
	params: ['filters'],
	properties: [
		filtersCollection([
			...dateRange(INCOMING_LEAD, 'createdAt', 'Created', 'created (or sorted)'),
			pipeline('Only incoming leads of this pipeline.'),
		]),
	],
};

export const INCOMING_LEAD_OPERATIONS: EntityOperation[] = [createForm, createSip, get, getMany, accept, decline, link, summary, customRequest()];
