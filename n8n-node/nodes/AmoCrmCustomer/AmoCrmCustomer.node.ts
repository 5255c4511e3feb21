import { entityNode, standardOperations } from '../../shared/entity/node';
import { CUSTOMER, CUSTOMER_RECORD_EXAMPLE } from './customer';
import { transactionOperations } from './transactions.operation';

export class AmoCrmCustomer extends entityNode(
	{
		displayName: 'AmoCRM Customer',
		name: 'amoCrmCustomer',
		subtitle: '={{$parameter["operation"] + ": customer"}}',
		description:
			'Read and write amoCRM / Kommo customers (periodic purchases): get, filter, create and update in batches, transactions, links, notes',
	},
	CUSTOMER,
	[...standardOperations(CUSTOMER, CUSTOMER_RECORD_EXAMPLE), ...transactionOperations],
) {}
