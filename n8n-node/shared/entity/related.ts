// The records an entity relates to, as its node offers them: what Get can
// include (amoCRM's `with`) and what Link takes.

import type { INodePropertyOptions } from 'n8n-workflow';
import type { EntityUi } from './descriptor';

type Link = NonNullable<EntityUi['links']>[number];

export const INCLUDE: Record<'catalogElements' | 'companies' | 'contacts' | 'customers' | 'leads', INodePropertyOptions> = {
	catalogElements: { name: 'Catalog Elements', value: 'catalog_elements', description: 'Linked products and other catalog elements' },
	companies: { name: 'Companies', value: 'companies', description: 'ID of the linked company' },
	contacts: { name: 'Contacts', value: 'contacts', description: 'IDs of linked contacts' },
	customers: { name: 'Customers', value: 'customers', description: 'IDs of linked customers' },
	leads: { name: 'Leads', value: 'leads', description: 'IDs of linked leads' },
};

export const LINK: Record<'companies' | 'contacts' | 'customers' | 'leads', Link> = {
	companies: { label: 'Company', labels: 'Companies', param: 'companyIds', type: 'companies', example: '4567' },
	contacts: { label: 'Contact', labels: 'Contacts', param: 'contactIds', type: 'contacts', example: '123, 124' },
	customers: { label: 'Customer', labels: 'Customers', param: 'customerIds', type: 'customers', example: '123' },
	leads: { label: 'Lead', labels: 'Leads', param: 'leadIds', type: 'leads', example: '20000001' },
};

/** Sort keys of entities amoCRM sorts by ID or last update only. */
export const SORT_BY_ID_OR_UPDATE: INodePropertyOptions[] = [
	{ name: 'ID', value: 'id' },
	{ name: 'Updated At', value: 'updated_at' },
];
