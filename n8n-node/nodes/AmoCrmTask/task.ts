// The AmoCRM Task node's description: the text, a deadline given as a date or
// as "in N hours" / "end of day", the task type, and the record the task is
// attached to (a lead or contact picked from a list, or an ID). The core
// (src/task) resolves the deadline against the time of the run and refuses
// one in the past.

import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { locator } from '../../shared/entity/descriptor';
import { createdAt, dateRange, responsibleUser, usersFilter, wholeNumber } from '../../shared/entity/fields';
import { CONTACT } from '../AmoCrmContact/contact';
import { LEAD } from '../AmoCrmLead/lead';

const base: Omit<EntityUi, 'filters' | 'createFields' | 'updateFields' | 'createPrimary'> = {
	resource: 'task',
	noun: 'task',
	nouns: 'tasks',
	label: 'Task',
	labels: 'Tasks',
	idParam: 'taskId',
	example: 'Call the client back',
	// amoCRM has no text search over tasks, and no card page for one.
	pickFromList: false,
	search: false,
	simplify: false,
	notes: false,
	tags: false,
	customFields: false,
	writeSummary: 'text, deadline, type, duration, responsible user, attached lead, contact, company or customer',
	include: [],
	sortBy: [
		{ name: 'Created At', value: 'created_at' },
		{ name: 'Deadline', value: 'complete_till' },
		{ name: 'ID', value: 'id' },
	],
};

const taskType: INodeProperties = {
	displayName: 'Task Type Name or ID',
	name: 'taskTypeId',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getTaskTypes' },
	default: '',
	description:
		'Call (1), meeting (2), or one of the account\'s own task types; amoCRM uses "call" when none is given. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

const duration = wholeNumber('Duration (Seconds)', 'duration', 'How long the task takes, in seconds (3600 is an hour)');

const DEADLINE_WAYS: INodePropertyOptions[] = [
	{ name: 'At a Date and Time', value: 'date', description: 'The date picked below' },
	{ name: 'End of Today', value: 'endOfDay', description: "23:59 of today in the amoCRM account's time zone" },
	{ name: 'In a Number of Hours', value: 'inHours', description: 'That many hours after the node runs' },
];

/** How the deadline is given, and its value; Update may keep it. */
function deadline(update: boolean): INodeProperties[] {
	return [
		update
			? {
					displayName: 'Deadline',
					name: 'deadline',
					type: 'options',
					default: 'keep',
					options: [{ name: 'Keep As It Is', value: 'keep' }, ...DEADLINE_WAYS],
					description: 'A new due time, or keep the one the task has. A deadline in the past is refused before anything is sent.',
				}
			: {
					displayName: 'Deadline',
					name: 'deadline',
					type: 'options',
					default: 'date',
					options: DEADLINE_WAYS,
					description: 'When the task is due. A deadline in the past is refused before anything is sent.',
				},
		{
			displayName: 'Deadline Date',
			name: 'deadlineDate',
			type: 'dateTime',
			default: '',
			required: !update,
			displayOptions: { show: { deadline: ['date'] } },
			description: 'When the task is due (with a time zone, or in the workflow\'s)',
		},
		{
			displayName: 'Hours From Now',
			name: 'deadlineHours',
			type: 'number',
			default: 24,
			typeOptions: { minValue: 0, numberPrecision: 2 },
			displayOptions: { show: { deadline: ['inHours'] } },
			description: 'The task is due this many hours after the node runs (1.5 is an hour and a half)',
		},
	];
}

const ATTACH_KINDS: INodePropertyOptions[] = [
	{ name: 'Company', value: 'companies' },
	{ name: 'Contact', value: 'contacts' },
	{ name: 'Customer', value: 'customers' },
	{ name: 'Lead', value: 'leads' },
];

/** What the task is attached to: a lead or contact picker, or an ID. */
function attachment(update: boolean): INodeProperties[] {
	return [
		update
			? {
					displayName: 'Attached To',
					name: 'attachTo',
					type: 'options',
					default: 'keep',
					options: [{ name: 'Keep As It Is', value: 'keep' }, ...ATTACH_KINDS],
					description: 'The record whose card shows the task, or keep the one it has',
				}
			: {
					displayName: 'Attached To',
					name: 'attachTo',
					type: 'options',
					default: 'none',
					options: [{ name: 'Nothing (a Standalone Task)', value: 'none' }, ...ATTACH_KINDS],
					description: 'The record whose card shows the task',
				},
		{
			...locator(LEAD, 'The lead the task is attached to', 'searchLeads'),
			displayOptions: { show: { attachTo: ['leads'] } },
		},
		{
			...locator(CONTACT, 'The contact the task is attached to', 'searchContacts'),
			displayOptions: { show: { attachTo: ['contacts'] } },
		},
		{
			displayName: 'Attached To ID',
			name: 'attachId',
			type: 'string',
			default: '',
			required: true,
			placeholder: '49000001',
			displayOptions: { show: { attachTo: ['companies', 'customers'] } },
			description: 'The ID of the company or customer the task is attached to',
		},
	];
}

const text: INodeProperties = {
	displayName: 'Text',
	name: 'text',
	type: 'string',
	typeOptions: { rows: 2 },
	default: '',
	required: true,
	placeholder: 'Call back about the offer',
	description: 'What is to be done',
};

const filters: INodeProperties[] = [
	{
		displayName: 'Attached To',
		name: 'entityType',
		type: 'options',
		default: '',
		options: [{ name: 'Any', value: '' }, ...ATTACH_KINDS],
		description: 'Only tasks attached to records of this type',
	},
	{
		displayName: 'Attached To IDs',
		name: 'entityIds',
		type: 'string',
		default: '',
		placeholder: '20000001, 20000002',
		description: 'Only tasks attached to these records (IDs separated by commas); needs Attached To',
	},
	{
		displayName: 'Completed',
		name: 'completed',
		type: 'options',
		default: 'any',
		options: [
			{ name: 'Any', value: 'any' },
			{ name: 'Completed Only', value: 'yes' },
			{ name: 'Open Only', value: 'no' },
		],
	},
	...dateRange(base as EntityUi, 'completeTill', 'Deadline', 'due'),
	usersFilter(base as EntityUi, 'createdBy', 'Created By', 'created by'),
	usersFilter(base as EntityUi, 'responsibleUserIds', 'Responsible User', 'assigned to'),
	{
		displayName: 'Task IDs',
		name: 'ids',
		type: 'string',
		default: '',
		placeholder: '30000001, 30000002',
		description: 'Only these tasks (IDs separated by commas)',
	},
	{
		displayName: 'Task Type Names or IDs',
		name: 'taskTypeIds',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getTaskTypes' },
		default: [],
		description:
			'Only tasks of these types. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	...dateRange(base as EntityUi, 'updatedAt', 'Updated', 'last updated'),
];

export const TASK: EntityUi = {
	...base,
	createPrimary: [text, ...deadline(false), ...attachment(false)],
	createFields: [createdAt(base as EntityUi), duration, responsibleUser(base as EntityUi), taskType],
	updatePrimary: [...deadline(true), ...attachment(true)],
	updateFields: [
		{
			displayName: 'Completed',
			name: 'isCompleted',
			type: 'boolean',
			default: false,
			description: 'Whether the task is done (the Complete operation does this with a result)',
		},
		duration,
		responsibleUser(base as EntityUi),
		{ displayName: 'Result', name: 'resultText', type: 'string', default: '', description: 'The result of the task, shown when it is done' },
		taskType,
		{ ...text, required: false, description: 'New text of the task' },
	],
	filters,
};

/** The fields automatic mapping takes, for the Mapping option's text. */
export const TASK_RECORD_EXAMPLE =
	'text, complete_till (a date, "endOfDay" or {"inHours": 3}), task_type_id, duration, entity_type, entity_id, responsible_user_id';
