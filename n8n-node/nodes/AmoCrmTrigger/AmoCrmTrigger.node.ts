import {
	NodeConnectionTypes,
	type IDataObject,
	type IHookFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';
import { authenticationProperty, credentialSlots } from '../../shared/authentication';
import { parseWebhook, type CoreError, type DropCounts, type KnownAccount } from '../../shared/core';
import { API_TYPE } from '../../shared/credentials';
import { runForAll, runForOne } from '../../shared/transport';
import { eventsProperty, optionsProperty } from './descriptions';

type SubscriptionOperation = 'checkExists' | 'subscribe' | 'unsubscribe';

/**
 * Runs one subscription call of the core (src/webhook/subscription.rs) for
 * this node's webhook URL and events; returns the one object it emits.
 */
async function subscription(ctx: IHookFunctions, operation: SubscriptionOperation): Promise<IDataObject> {
	const credentialType = ctx.getNodeParameter('authentication', API_TYPE) as string;
	const params: IDataObject = {
		destination: ctx.getNodeWebhookUrl('default') ?? null,
		events: ctx.getNodeParameter('events', []) as string[],
	};
	return await runForOne(ctx, credentialType, { resource: 'webhook', operation }, params);
}

/**
 * The body exactly as amoCRM sent it. n8n keeps it as `rawBody`; should it
 * be missing, the fields n8n parsed are encoded back (n8n's own parser keeps
 * at most 1,000 of them, so the raw body is preferred).
 */
function rawBody(ctx: IWebhookFunctions): string {
	const raw = (ctx.getRequestObject() as { rawBody?: unknown }).rawBody;
	if (Buffer.isBuffer(raw)) return raw.toString('utf8');
	if (typeof raw === 'string') return raw;
	const pairs: string[] = [];
	const add = (key: string, value: unknown): void => {
		if (value !== null && typeof value === 'object') {
			for (const [k, v] of Object.entries(value)) add(key === '' ? k : `${key}[${k}]`, v);
		} else {
			pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value ?? ''))}`);
		}
	};
	add('', ctx.getBodyData());
	return pairs.join('&');
}

function errorItem(error: CoreError, body?: string): INodeExecutionData {
	const json: IDataObject = { error: error.message };
	if (error.description) json.description = error.description;
	if (body !== undefined) json.body = body;
	return { json };
}

/**
 * The account deliveries must name, read with one `GET /api/v4/account`
 * (src/webhook/mod.rs `account`). Kept in the node's static data, which n8n
 * saves when the workflow is activated.
 */
async function learnAccount(ctx: IHookFunctions | IWebhookFunctions, credentialType: string): Promise<KnownAccount> {
	const account = (await runForOne(ctx, credentialType, { resource: 'webhook', operation: 'account' }, {})) as unknown as KnownAccount;
	ctx.getWorkflowStaticData('node').account = account;
	return account;
}

/**
 * Deliveries dropped (another account's, or unreadable) since the last one
 * that ran the workflow, per trigger node. Process memory: a dropped
 * delivery starts no execution, so n8n would not save static data for it.
 * The counts survive until the next good delivery in this n8n process; a
 * restart, or another webhook process in queue mode, starts from zero. Each
 * drop is also logged at warn level, which survives everything.
 */
const dropCounts = new Map<string, DropCounts>();

function dropKey(ctx: IWebhookFunctions): string {
	return `${ctx.getWorkflow().id ?? ''}/${ctx.getNode().id ?? ctx.getNode().name}`;
}

interface TriggerOptions {
	normalize?: boolean;
	emitUnreadable?: boolean;
	fetchFullRecords?: boolean;
	with?: string[];
	simplify?: boolean;
}

/**
 * The events of one delivery, each with its full record: one batched read
 * per entity type (src/event/enrich.rs).
 */
async function withRecords(ctx: IWebhookFunctions, credentialType: string, events: IDataObject[], options: TriggerOptions): Promise<IDataObject[]> {
	const params: IDataObject = { events, with: options.with ?? [], simplify: options.simplify === true };
	return await runForAll(ctx, credentialType, { resource: 'event', operation: 'enrich' }, params);
}

/**
 * What one delivery becomes. Never throws: n8n would answer 500, and amoCRM
 * switches off a destination that keeps failing.
 */
async function receive(ctx: IWebhookFunctions): Promise<IWebhookResponseData> {
	const options = ctx.getNodeParameter('options', {}) as TriggerOptions;
	const credentialType = ctx.getNodeParameter('authentication', API_TYPE) as string;
	const key = dropKey(ctx);
	try {
		const stored = ctx.getWorkflowStaticData('node').account as KnownAccount | undefined;
		const account = stored ?? (await learnAccount(ctx, credentialType));
		const dropped = dropCounts.get(key) ?? { foreignAccount: 0, unreadable: 0 };
		const parsed = parseWebhook(rawBody(ctx), {
			normalize: options.normalize !== false,
			account,
			emitUnreadable: options.emitUnreadable === true,
			dropped,
		});
		if (!parsed.ok) return { workflowData: [[errorItem(parsed.error)]] };
		const { events, drop, error, preview } = parsed.value;
		if (drop) {
			const counts = {
				foreignAccount: dropped.foreignAccount + (drop.kind === 'foreign_account' ? 1 : 0),
				unreadable: dropped.unreadable + (drop.kind === 'unreadable' ? 1 : 0),
			};
			dropCounts.set(key, counts);
			ctx.logger.warn(
				`AmoCRM Webhook Trigger: a delivery was answered and dropped (${drop.kind}): ${drop.message}. Dropped since the last delivery that ran the workflow: ${counts.foreignAccount} for another account, ${counts.unreadable} unreadable.`,
			);
			return {};
		}
		dropCounts.delete(key);
		if (error) return { workflowData: [[errorItem(error, preview)]] };
		let list = events ?? [];
		if (options.fetchFullRecords === true && list.length > 0) {
			// Answer amoCRM now (it waits 2 seconds at most), then read.
			ctx.getResponseObject().status(200).json({ message: 'Webhook call received' });
			try {
				list = await withRecords(ctx, credentialType, list, options);
			} catch (e) {
				ctx.logger.warn(`AmoCRM Webhook Trigger: the full records could not be fetched: ${(e as Error).message}`);
				list = list.map((event) => ({ ...event, record: null, record_error: (e as Error).message }));
			}
			return { noWebhookResponse: true, workflowData: [list.map((json) => ({ json }))] };
		}
		return { workflowData: [list.map((json) => ({ json }))] };
	} catch (error) {
		ctx.logger.warn(`AmoCRM Webhook Trigger: a delivery could not be handled and was dropped: ${(error as Error).message}`);
		return {};
	}
}

export class AmoCrmTrigger implements INodeType {
	description: INodeTypeDescription = {
		// n8n's node panel drops " Trigger" from a trigger's name: it lists this
		// one as "AmoCRM Webhook", beside the entity nodes.
		displayName: 'AmoCRM Webhook Trigger',
		name: 'amoCrmTrigger',
		icon: { light: 'file:../../icons/amocrm.svg', dark: 'file:../../icons/amocrm.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description:
			'Starts the workflow when amoCRM / Kommo reports changes to leads, contacts, companies, customers, tasks, talks or incoming leads (needs a public URL)',
		defaults: { name: 'AmoCRM Webhook Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: credentialSlots,
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				// Answer at once: amoCRM switches off a destination that is slow or fails.
				responseMode: 'onReceived',
				path: 'webhook',
			},
		],
		properties: [
			authenticationProperty,
			{
				displayName:
					'Activating the workflow subscribes this node\'s URL to the chosen events in amoCRM (Settings → Integrations → Web hooks); deactivating it removes the subscription. Only an amoCRM administrator may manage webhooks, and amoCRM must reach this n8n: without a public URL, use the AmoCRM Events Trigger instead.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			eventsProperty,
			optionsProperty,
		],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				// The account deliveries must name, read at every activation.
				await learnAccount(this, this.getNodeParameter('authentication', API_TYPE) as string);
				// False also for a hook amoCRM disabled or whose events differ:
				// create() then subscribes again, which re-enables and updates it.
				return (await subscription(this, 'checkExists')).exists === true;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				await subscription(this, 'subscribe');
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				// A hook already gone counts as removed. Never throw here: that
				// would keep the workflow from being deactivated (say, after the
				// credential was revoked); the failure goes to n8n's log.
				try {
					await subscription(this, 'unsubscribe');
					return true;
				} catch (error) {
					this.logger.warn(`AmoCRM Trigger: the amoCRM webhook subscription could not be removed: ${(error as Error).message}`);
					return false;
				}
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receive(this);
	}
}
