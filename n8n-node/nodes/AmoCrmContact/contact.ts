// The AmoCRM Contact node's description: first and last name, phones and
// e-mails with their types, over the fields every entity node shares.

import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { commonFilters, createdAt, name, responsibleUser, tagsOnCreate, tagsOnUpdate } from '../../shared/entity/fields';
import { defaultCountry, emails, phones, valuesMode } from '../../shared/entity/reach';
import { INCLUDE, LINK, SORT_BY_ID_OR_UPDATE } from '../../shared/entity/related';

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
	include: [INCLUDE.catalogElements, INCLUDE.customers, INCLUDE.leads],
	sortBy: SORT_BY_ID_OR_UPDATE,
	links: [LINK.leads, LINK.companies, LINK.customers],
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
