// A customer's transactions (purchases): add in batches per customer, list
// for one customer or for all, delete by ID (src/customer/transactions.rs).

import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { locator } from '../../shared/entity/descriptor';
import { mapping, paging, writeOptions } from '../../shared/entity/fields';
import { manualOnly } from '../../shared/entity/operations/create';
import type { EntityOperation } from '../../shared/entity/operation';
import { CUSTOMER, nextDate, nextPrice } from './customer';

/** Transactions as Batch Size and Mapping name them. */
const TRANSACTION: EntityUi = { ...CUSTOMER, noun: 'transaction', nouns: 'transactions', label: 'Transaction', labels: 'Transactions' };

const EXAMPLE = 'customer_id, price, comment, completed_at, next_price, next_date';

const purchase: INodeProperties[] = [
	locator(CUSTOMER, 'The customer who bought'),
	{
		displayName: 'Price',
		name: 'price',
		type: 'number',
		default: 0,
		required: true,
		typeOptions: { minValue: 0 },
		description: 'The amount of the purchase, a whole number in the account currency',
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			{ displayName: 'Comment', name: 'comment', type: 'string', default: '' },
			{ displayName: 'Completed At', name: 'completedAt', type: 'dateTime', default: '', description: 'When the purchase was made, if not now' },
			{ ...nextDate, description: "Sets the customer's next expected purchase date" },
			{ ...nextPrice, description: "Sets the customer's next expected purchase amount" },
		],
	},
];

export const transactionOperations: EntityOperation[] = [
	{
		option: {
			name: 'Add Transaction',
			value: 'addTransaction',
			action: "Add a purchase (price, comment) to a customer's transactions, returning the new transaction",
			description:
				"Record a customer's purchase (price, comment, date); many items go out in batches per customer; returns each new transaction",
		},
		params: ['mapping', 'customerId', 'price', 'additionalFields', 'options'],
		autoParams: ['mapping', 'options'],
		properties: [mapping(TRANSACTION, EXAMPLE), ...purchase.map(manualOnly), writeOptions(TRANSACTION, { auto: true })],
	},
	{
		option: {
			name: 'Get Transactions',
			value: 'getTransactions',
			action: 'Get the transactions of a customer or of all customers, one item per transaction',
			description: "List one customer's transactions, or every customer's when no customer is given; returns one item per transaction",
		},
		params: ['customerId', 'returnAll', 'limit'],
		properties: [
			{ ...locator(CUSTOMER, "The customer whose transactions to list; leave empty for every customer's"), required: false },
			...paging(),
		],
	},
	{
		option: {
			name: 'Delete Transaction',
			value: 'deleteTransaction',
			action: 'Delete a transaction by ID, returning its ID',
			description: "Delete a transaction by ID (the customer's totals follow); returns its ID with deleted: true",
		},
		params: ['transactionId'],
		properties: [
			{
				displayName: 'Transaction ID',
				name: 'transactionId',
				type: 'string',
				default: '',
				required: true,
				placeholder: '65000001',
				description: 'The transaction to delete, as Add Transaction or Get Transactions returns it',
			},
		],
	},
];
