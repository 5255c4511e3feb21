import { entityNode, standardOperations } from '../../shared/entity/node';
import { createComplex } from './createComplex.operation';
import { LEAD, LEAD_RECORD_EXAMPLE } from './lead';

export class AmoCrmLead extends entityNode(
	{
		displayName: 'AmoCRM Lead',
		name: 'amoCrmLead',
		subtitle: '={{$parameter["operation"] + ": lead"}}',
		description:
			'Read and write amoCRM / Kommo leads: get, search and filter, create and update in batches, link contacts and companies, notes',
	},
	LEAD,
	[...standardOperations(LEAD, LEAD_RECORD_EXAMPLE), createComplex],
) {}
