import { entityNode, standardOperations } from '../../shared/entity/node';
import { CONTACT, CONTACT_RECORD_EXAMPLE } from './contact';
import { contactFindOrCreate } from './findOrCreate.operation';

export class AmoCrmContact extends entityNode(
	{
		displayName: 'AmoCRM Contact',
		name: 'amoCrmContact',
		subtitle: '={{$parameter["operation"] + ": contact"}}',
		description:
			'Read and write amoCRM / Kommo contacts: find or create by phone or e-mail, get, search, create and update in batches, links, notes',
	},
	CONTACT,
	[...standardOperations(CONTACT, CONTACT_RECORD_EXAMPLE), contactFindOrCreate],
) {}
