// The AmoCRM Contact node's description: first and last name, phones and
// e-mails with their types, over the fields every entity node shares.

import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { commonFilters, createdAt, name, responsibleUser, tagsOnCreate, tagsOnUpdate } from '../../shared/entity/fields';
import { defaultCountry, emails, phones, valuesMode } from '../../shared/entity/reach';

const base: Omit<EntityUi, 'filters' | 'createFields' | 'updateFields' | 'createPrimary'> = {
	resource: 'contact',
	noun: 'contact',
	nouns: 'contacts',
	label: 'Contact',
	labels: 'Contacts',
	idParam: 'contactId',
	cardPath: '/contacts/detail/',
	example: 'Ivan Petrov',
	notes: true,
	tags: true,
	customFields: true,
	writeSummary: 'name, phones, e-mails, responsible user, tags, custom fields',
	include: [
		{ name: 'Catalog Elements', value: 'catalog_elements', description: 'Linked products and other catalog elements' },
		{ name: 'Customers', value: 'customers', description: 'IDs of linked customers' },
		{ name: 'Leads', value: 'leads', description: 'IDs of linked leads' },
	],
	sortBy: [
		{ name: 'ID', value: 'id' },
		{ name: 'Updated At', value: 'updated_at' },
	],
	links: [
		{ label: 'Lead', labels: 'Leads', param: 'leadIds', type: 'leads', example: '20000001' },
		{ label: 'Company', labels: 'Companies', param: 'companyIds', type: 'companies', example: '4567' },
		{ label: 'Customer', labels: 'Customers', param: 'customerIds', type: 'customers', example: '123' },
	],
	linksCatalogElements: true,
	writeOptions: [defaultCountry],
};

const personName = (field: 'firstName' | 'lastName', label: string): INodeProperties => ({
	displayName: label,
	name: field,
	type: 'string',
	default: '',
});

export const CONTACT: EntityUi = {
	...base,
	createPrimary: [{ ...name(base as EntityUi, 'Ivan Petrov'), description: 'Full name; amoCRM builds it from first and last name when empty' }, phones, emails],
	createFields: [
		createdAt(base as EntityUi),
		personName('firstName', 'First Name'),
		personName('lastName', 'Last Name'),
		responsibleUser(base as EntityUi),
		tagsOnCreate(base as EntityUi),
	],
	updatePrimary: [phones, emails, valuesMode],
	updateFields: [
		personName('firstName', 'First Name'),
		personName('lastName', 'Last Name'),
		{ displayName: 'Name', name: 'name', type: 'string', default: '', description: 'New full name of the contact' },
		responsibleUser(base as EntityUi),
		...tagsOnUpdate(base as EntityUi),
	],
	filters: commonFilters(base as EntityUi).sort((a, b) => a.displayName.localeCompare(b.displayName)),
};

export const CONTACT_RECORD_EXAMPLE = 'name, first_name, last_name, PHONE, EMAIL, responsible_user_id, tags';
