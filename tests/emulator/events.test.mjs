import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, receiver } from './helpers.mjs';

const form = (body) => Object.fromEntries(new URLSearchParams(body));

describe('events (the activity feed)', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  const events = async (query = '') => {
    const r = await env.api.get(`/api/v4/events?limit=100${query}`);
    assert.ok(r.status === 200 || r.status === 204, r.text);
    return r.status === 204 ? [] : r.body._embedded.events;
  };

  test('a seed has no events; changes through the API record them with amoCRM types and value shapes', async () => {
    assert.equal((await env.api.get('/api/v4/events')).status, 204);
    const created = await env.api.post('/api/v4/leads', [{ name: 'E1', price: 10, _embedded: { tags: [{ name: 'vip' }] } }]);
    const leadId = created.body._embedded.leads[0].id;
    await env.api.patch(`/api/v4/leads/${leadId}`, {
      status_id: 142, pipeline_id: 7000001, price: 20, responsible_user_id: 8000002,
      custom_fields_values: [{ field_id: 900001, values: [{ enum_id: (await env.api.get('/api/v4/leads/custom_fields/900001')).body.enums[0].id }] }],
    });
    const contact = (await env.api.post('/api/v4/contacts', [{ name: 'C1' }])).body._embedded.contacts[0].id;
    await env.api.post(`/api/v4/leads/${leadId}/link`, [{ to_entity_id: contact, to_entity_type: 'contacts' }]);
    await env.api.post(`/api/v4/leads/${leadId}/notes`, [{ note_type: 'common', params: { text: 'hi' } }]);
    const task = (await env.api.post('/api/v4/tasks', [{ text: 'Call', complete_till: 2_000_000_000, entity_type: 'leads', entity_id: leadId }])).body._embedded.tasks[0].id;
    await env.api.patch(`/api/v4/tasks/${task}`, { is_completed: true, result: { text: 'done' } });

    const all = await events();
    const types = all.map((e) => e.type).reverse();
    assert.deepEqual(types, [
      'lead_added', 'sale_field_changed', 'lead_status_changed', 'entity_responsible_changed', 'custom_field_900001_value_changed',
      'contact_added', 'entity_linked', 'common_note_added', 'task_added', 'task_completed', 'task_result_added',
    ]);
    const status = all.find((e) => e.type === 'lead_status_changed');
    assert.equal(status.entity_type, 'lead');
    assert.equal(status.entity_id, leadId);
    assert.deepEqual(status.value_after, [{ lead_status: { id: 142, pipeline_id: 7000001 } }]);
    assert.equal(status.value_before[0].lead_status.pipeline_id, 7000001);
    assert.match(status.id, /^[0-9a-z]{26}$/);
    assert.equal(status.account_id, 31000001);
    assert.deepEqual(status._embedded.entity.id, leadId);
    const cf = all.find((e) => e.type.startsWith('custom_field_'));
    assert.equal(cf.value_after[0].custom_field_value.field_id, 900001);
    assert.deepEqual(all.find((e) => e.type === 'entity_linked').value_after, [{ link: { entity: { type: 'contact', id: contact } } }]);
    assert.deepEqual(all.find((e) => e.type === 'entity_responsible_changed').value_after, [{ responsible_user: { id: 8000002 } }]);
    const one = await env.api.get(`/api/v4/events/${status.id}?with=lead_name`);
    assert.equal(one.body.id, status.id);
    assert.equal(one.body._embedded.entity.name, 'E1');
    assert.equal((await env.api.get('/api/v4/events/0000000000zzzzzzzzzzzzzzzz')).status, 204);
  });

  test('filters: type (custom_field_value_changed matches every field), entity, entity_id, created_by, value_after, created_at; amoCRM rules give 400', async () => {
    assert.ok((await events('&filter[type][]=lead_added')).every((e) => e.type === 'lead_added'));
    assert.equal((await events('&filter[type]=custom_field_value_changed')).length, 1);
    assert.equal((await events('&filter[type][0]=custom_field_900001_value_changed')).length, 1);
    assert.ok((await events('&filter[entity][]=task')).every((e) => e.entity_type === 'task'));
    assert.equal((await events('&filter[entity]=lead,contact')).filter((e) => e.entity_type === 'task').length, 0);
    const lead = (await events('&filter[type][]=lead_added'))[0].entity_id;
    assert.ok((await events(`&filter[entity]=lead&filter[entity_id][]=${lead}`)).every((e) => e.entity_id === lead));
    assert.equal((await env.api.get(`/api/v4/events?filter[entity_id][]=${lead}`)).status, 400);
    assert.equal((await env.api.get(`/api/v4/events?filter[entity][]=lead&filter[entity][]=task&filter[entity_id][]=${lead}`)).status, 400);
    assert.equal((await env.api.get('/api/v4/events?filter[type][]=custom_field_1_value_changed&filter[type][]=lead_added')).status, 400);
    assert.equal((await env.api.get('/api/v4/events?filter[value_after][value]=5&filter[type]=lead_added')).status, 400);
    assert.equal((await env.api.get('/api/v4/events?limit=101')).status, 400);
    const won = await events('&filter[value_after][leads_statuses][0][pipeline_id]=7000001&filter[value_after][leads_statuses][0][status_id]=142');
    assert.deepEqual(won.map((e) => e.type), ['lead_status_changed']);
    assert.equal((await events('&filter[value_after][responsible_user_id]=8000002,8000003')).length, 1);
    assert.equal((await events('&filter[value_after][value]=20&filter[type]=sale_field_changed')).length, 1);
    assert.equal((await events('&filter[created_by][]=8000001')).length, (await events()).length);
    assert.equal((await events('&filter[created_by][]=8000004')).length, 0);
    const future = Math.floor(Date.now() / 1000) + 3600;
    assert.equal((await events(`&filter[created_at][from]=${future}`)).length, 0);
    assert.equal((await events(`&filter[created_at]=${future}`)).length, 0);
    assert.equal((await events(`&filter[created_at][to]=${future}`)).length, (await events()).length);
  });

  test('admin injection at chosen seconds; pages of `limit`, newest first, with next links and a 204 past the end', async () => {
    await env.admin('DELETE', '/_admin/events');
    const { ids } = await env.admin('POST', '/_admin/events', { count: 250, template: { type: 'lead_added', entity_type: 'lead', entity_id: 1, created_at: 1_700_000_000 } });
    await env.admin('POST', '/_admin/events', { events: [{ type: 'lead_added', entity_type: 'lead', entity_id: 9, created_at: 1_700_000_001 }] });
    assert.equal(ids.length, 250);
    const p1 = await env.api.get('/api/v4/events?limit=100&page=1');
    assert.equal(p1.body._embedded.events[0].entity_id, 9, 'newest first');
    assert.match(p1.body._links.next.href, /page=2/);
    const p3 = await env.api.get('/api/v4/events?limit=100&page=3');
    assert.equal(p3.body._embedded.events.length, 51);
    assert.equal(p3.body._links.next, undefined);
    assert.equal((await env.api.get('/api/v4/events?limit=100&page=4')).status, 204);
    const same = await events('&filter[created_at][from]=1700000000&filter[created_at][to]=1700000000');
    assert.equal(same.length, 100);
    const seen = new Set();
    for (let page = 1; page <= 3; page++) {
      const r = await env.api.get(`/api/v4/events?limit=100&page=${page}&filter[created_at][from]=1700000000&filter[created_at][to]=1700000000`);
      for (const e of r.body._embedded.events) seen.add(e.id);
    }
    assert.equal(seen.size, 250, 'paging one second is stable');
    assert.equal((await env.admin('GET', '/_admin/events?since=1700000001')).events.length, 1);
  });
});

describe('webhooks of every entity', () => {
  let env;
  let rcv;
  before(async () => {
    env = await setup({ seed: 'base' });
    rcv = await receiver();
    const settings = ['add_contact', 'update_contact', 'add_company', 'responsible_company', 'add_customer', 'add_task', 'update_task', 'note_contact', 'add_unsorted', 'delete_unsorted', 'add_talk'];
    await env.api.post('/api/v4/webhooks', { destination: rcv.url, settings });
  });
  after(async () => { await rcv.close(); await env.close(); });

  let read = 0;
  /** The next delivery not read yet. */
  const next = async () => {
    read += 1;
    const reqs = await rcv.waitFor(read);
    return form(reqs[read - 1].body);
  };

  test('contacts, companies (under contacts[…] with type=company), customers, tasks, notes and incoming leads in the old form', async () => {
    const c = (await env.api.post('/api/v4/contacts', [{ name: 'Ann', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+79001112233', enum_code: 'MOB' }] }] }])).body._embedded.contacts[0].id;
    let b = await next();
    assert.equal(b['contacts[add][0][id]'], String(c));
    assert.equal(b['contacts[add][0][type]'], 'contact');
    assert.equal(b['contacts[add][0][custom_fields][0][code]'], 'PHONE');
    assert.equal(b['contacts[add][0][custom_fields][0][values][0][value]'], '+79001112233');
    assert.ok(b['contacts[add][0][date_create]']);
    assert.equal(b['account[subdomain]'], 'demo');
    assert.equal(b['account[id]'], '31000001');

    const co = (await env.api.post('/api/v4/companies', [{ name: 'Acme' }])).body._embedded.companies[0].id;
    b = await next();
    assert.equal(b['contacts[add][0][type]'], 'company');
    assert.equal(b['contacts[add][0][id]'], String(co));
    await env.api.patch(`/api/v4/companies/${co}`, { responsible_user_id: 8000003 });
    b = await next();
    assert.equal(b['contacts[responsible][0][old_responsible_user_id]'], '8000001');

    await env.api.post('/api/v4/customers', [{ name: 'Cust', next_date: 2_000_000_000 }]);
    b = await next();
    assert.equal(b['customers[add][0][name]'], 'Cust');

    const t = (await env.api.post('/api/v4/tasks', [{ text: 'Call Ann', complete_till: 2_000_000_000, entity_type: 'contacts', entity_id: c }])).body._embedded.tasks[0].id;
    b = await next();
    assert.equal(b['task[add][0][id]'], String(t));
    assert.equal(b['task[add][0][element_type]'], '1');
    assert.equal(b['task[add][0][status]'], '0');
    assert.match(b['task[add][0][complete_till]'], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    await env.api.post(`/api/v4/contacts/${c}/notes`, [{ note_type: 'common', params: { text: 'met' } }]);
    b = await next();
    assert.equal(b['contacts[note][0][note][text]'], 'met');
    assert.equal(b['contacts[note][0][note][element_id]'], String(c));

    const u = (await env.api.post('/api/v4/leads/unsorted/forms', [{ source_uid: 's1', source_name: 'Site', metadata: { form_id: '1', form_name: 'F', form_page: 'https://x.example', form_sent_at: 1_700_000_000 }, _embedded: { leads: [{ name: 'Web' }] } }])).body._embedded.unsorted[0].uid;
    let bodies = [];
    while (!bodies.some((x) => x['unsorted[add][0][uid]'])) bodies.push(await next());
    await env.api.post(`/api/v4/leads/unsorted/${u}/accept`, {});
    bodies = [];
    while (!bodies.some((x) => x['unsorted[delete][0][uid]'])) bodies.push(await next());
    assert.equal(bodies.find((x) => x['unsorted[delete][0][uid]'])['unsorted[delete][0][action]'], 'accept');
  });

  test('admin emits talks, deliveries that claim another account, and garbage', async () => {
    await env.admin('POST', '/_admin/webhooks/emit', { entity: 'talk', action: 'add', id: 12, talk: { talk_id: 12, contact_id: 39000001, chat_id: 'abc', entity_type: 'lead', entity_id: 1 } });
    let b = await next();
    assert.equal(b['talk[add][0][talk_id]'], '12');
    await env.admin('POST', '/_admin/webhooks/emit', { entity: 'contact', action: 'add', id: 39000001, account: { id: 99999999, subdomain: 'other' } });
    b = await next();
    assert.equal(b['account[subdomain]'], 'other');
    assert.equal(b['account[id]'], '99999999');
    const r = await env.admin('POST', '/_admin/webhooks/send', { body: 'this is not a form %zz' });
    assert.equal(r.deliveries.length, 1);
    assert.equal((await rcv.waitFor(read + 1))[read].body, 'this is not a form %zz');
  });
});
