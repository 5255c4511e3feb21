// The AmoCRM Company node's description: phones and e-mails with their
// types, over the fields every entity node shares.

import type { EntityUi } from '../../shared/entity/descriptor';
import { commonFilters, createdAt, name, responsibleUser, tagsOnCreate, tagsOnUpdate } from '../../shared/entity/fields';
import { defaultCountry, emails, phones, valuesMode } from '../../shared/entity/reach';
import { INCLUDE, LINK, SORT_BY_ID_OR_UPDATE } from '../../shared/entity/related';

const base: Omit<EntityUi, 'filters' | 'createFields' | 'updateFields' | 'createPrimary'> = {
	resource: 'company',
	noun: 'company',
	nouns: 'companies',
	label: 'Company',
	labels: 'Companies',
	idParam: 'companyId',
	cardPath: '/companies/detail/',
	example: 'Acme LLC',
	notes: true,
	tags: true,
	customFields: true,
	writeSummary: 'name, phones, e-mails, responsible user, tags, custom fields',
	include: [INCLUDE.catalogElements, INCLUDE.contacts, INCLUDE.customers, INCLUDE.leads],
	sortBy: SORT_BY_ID_OR_UPDATE,
	links: [LINK.leads, LINK.contacts, LINK.customers],
	linksCatalogElements: true,
	writeOptions: [defaultCountry],
};

export const COMPANY: EntityUi = {
	...base,
	createPrimary: [name(base as EntityUi, 'Acme LLC'), phones, emails],
	createFields: [createdAt(base as EntityUi), responsibleUser(base as EntityUi), tagsOnCreate(base as EntityUi)],
	updatePrimary: [phones, emails, valuesMode],
	updateFields: [
		{ displayName: 'Name', name: 'name', type: 'string', default: '', description: 'New name of the company' },
		responsibleUser(base as EntityUi),
		...tagsOnUpdate(base as EntityUi),
	],
	filters: commonFilters(base as EntityUi).sort((a, b) => a.displayName.localeCompare(b.displayName)),
};

export const COMPANY_RECORD_EXAMPLE = 'name, PHONE, EMAIL, WEB, responsible_user_id, tags';
