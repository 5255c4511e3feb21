import { entityNode, standardOperations } from '../../shared/entity/node';
import { COMPANY, COMPANY_RECORD_EXAMPLE } from './company';
import { companyFindOrCreate } from './findOrCreate.operation';

export class AmoCrmCompany extends entityNode(
	{
		displayName: 'AmoCRM Company',
		name: 'amoCrmCompany',
		subtitle: '={{$parameter["operation"] + ": company"}}',
		description:
			'Read and write amoCRM / Kommo companies: find or create by name or tax number, get, search, create and update in batches, links, notes',
	},
	COMPANY,
	[...standardOperations(COMPANY, COMPANY_RECORD_EXAMPLE), companyFindOrCreate],
) {}
