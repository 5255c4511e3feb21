// The AmoCRM Customer node's description: customers of amoCRM's periodic
// purchases (next purchase date and price, periodicity, status), with the
// tags, custom fields, links and notes every entity node shares.

import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { commonFilters, createdAt, dateRange, name, responsibleUser, tagsOnCreate, tagsOnUpdate, wholeNumber } from '../../shared/entity/fields';
import { INCLUDE, LINK } from '../../shared/entity/related';

const base: Omit<EntityUi, 'filters' | 'createFields' | 'updateFields' | 'createPrimary'> = {
	resource: 'customer',
	noun: 'customer',
	nouns: 'customers',
	label: 'Customer',
	labels: 'Customers',
	idParam: 'customerId',
	cardPath: '/customers/detail/',
	example: 'Acme annual supply',
	notes: true,
	tags: true,
	customFields: true,
	writeSummary: 'name, next purchase date and price, periodicity, status, responsible user, tags, custom fields',
	include: [INCLUDE.catalogElements, INCLUDE.companies, INCLUDE.contacts],
	// amoCRM documents no sort order for customers.
	sortBy: [],
	links: [LINK.contacts, LINK.companies],
	linksCatalogElements: true,
};

export const nextDate: INodeProperties = {
	displayName: 'Next Purchase Date',
	name: 'nextDate',
	type: 'dateTime',
	default: '',
	description: 'When the customer is expected to buy next; amoCRM requires it in the periodic purchases mode',
};

export const nextPrice = wholeNumber(
	'Next Purchase Price',
	'nextPrice',
	'The expected amount of the next purchase, a whole number in the account currency',
);

const periodicity = wholeNumber('Periodicity (Days)', 'periodicity', 'Days between purchases');

const status: INodeProperties = {
	displayName: 'Status Name or ID',
	name: 'statusId',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getCustomerStatuses' },
	default: '',
	description:
		'The customer status (periodic purchases mode; amoCRM gives new customers its default one). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

const filters: INodeProperties[] = [
	...commonFilters(base as EntityUi),
	...dateRange(base as EntityUi, 'nextDate', 'Next Purchase', 'expected to buy next'),
	{ displayName: 'Next Purchase Price From', name: 'nextPriceFrom', type: 'number', default: 0, description: 'Only customers whose next purchase is expected to be at least this' },
	{ displayName: 'Next Purchase Price To', name: 'nextPriceTo', type: 'number', default: 0, description: 'Only customers whose next purchase is expected to be at most this' },
	{
		displayName: 'Status Names or IDs',
		name: 'statusIds',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getCustomerStatuses' },
		default: [],
		description:
			'Only customers in these statuses. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
];

export const CUSTOMER: EntityUi = {
	...base,
	createPrimary: [{ ...name(base as EntityUi, 'Acme annual supply'), required: true }, nextDate],
	createFields: [createdAt(base as EntityUi), nextPrice, periodicity, responsibleUser(base as EntityUi), status, tagsOnCreate(base as EntityUi)],
	updateFields: [
		{ displayName: 'Name', name: 'name', type: 'string', default: '', description: 'New name of the customer' },
		nextDate,
		nextPrice,
		periodicity,
		responsibleUser(base as EntityUi),
		status,
		...tagsOnUpdate(base as EntityUi),
	],
	filters: filters.sort((a, b) => a.displayName.localeCompare(b.displayName)),
};

export const CUSTOMER_RECORD_EXAMPLE = 'name, next_date, next_price, periodicity, status_id, responsible_user_id, tags';
