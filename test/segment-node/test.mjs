// Segment's official Node library (@segment/analytics-node), unmodified,
// against the real omo binary on a temporary SQLite file. Usage:
//   OMO_BIN=bin/omo node test.mjs
import { Analytics } from '@segment/analytics-node'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import assert from 'node:assert/strict'

const bin = process.env.OMO_BIN || '../../bin/omo'
const dir = mkdtempSync(join(tmpdir(), 'omo-segment-node-'))
const db = 'sqlite:' + join(dir, 'omo.db')
const omo = (...args) => JSON.parse(execFileSync(bin, [...args, '--db', db], { encoding: 'utf8' }))

const tenant = omo('tenant', 'create', '--name', 'Node Test Brand')
const admin = tenant.api_key

const server = spawn(bin, ['serve', '--db', db, '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] })
const addr = await new Promise((resolve, reject) => {
  let buf = ''
  server.stderr.on('data', (d) => {
    buf += d
    const m = buf.match(/"addr":"(127\.0\.0\.1:\d+)"/)
    if (m) resolve(m[1])
  })
  server.on('exit', (code) => reject(new Error('omo serve exited ' + code + ': ' + buf)))
  setTimeout(() => reject(new Error('omo serve did not start: ' + buf)), 20000)
})
const base = 'http://' + addr
const api = async (method, path, body) => {
  const res = await fetch(base + path, { method, headers: { Authorization: 'Bearer ' + admin, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body) })
  const json = await res.json()
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

try {
  await api('POST', '/v1/sales_channels', { code: 'web', type: 'web', names: { en: 'Web shop' } })
  const writeKey = omo('key', 'create', '--tenant', tenant.tenant_id, '--scopes', 'events:write', '--kind', 'pk', '--sales-channel', 'web').api_key
  assert.match(writeKey, /^pk_/)

  const analytics = new Analytics({ writeKey, host: base, flushAt: 20, flushInterval: 200 })
  const failures = []
  analytics.on('error', (err) => failures.push(err))
  const anon = 'anon-node-' + Date.now()
  analytics.page({ anonymousId: anon, name: 'Home' })
  analytics.track({ anonymousId: anon, event: 'Product Viewed', properties: { sku: 'TEE-M', price: 129 } })
  analytics.identify({ anonymousId: anon, userId: 'user-node-1', traits: { email: 'node.shopper@omo-shop.hk', firstName: 'Mei' } })
  analytics.track({ userId: 'user-node-1', event: 'Order Completed', properties: { order_id: 'NODE-1', currency: 'HKD', total: 258,
    products: [{ sku: 'TEE-M', price: 129, quantity: 2 }] } })
  await analytics.closeAndFlush({ timeout: 10000 })
  assert.deepEqual(failures, [])

  const found = await api('GET', '/v1/customers?email=node.shopper@omo-shop.hk')
  assert.equal(found.data.length, 1, 'one customer for the anonymous visitor and the known user')
  const id = found.data[0].id
  assert.equal(found.data[0].traits.first_name, 'Mei')
  const events = await api('GET', `/v1/customers/${id}/events`)
  assert.equal(events.data.length, 4, 'all four events on the customer: ' + JSON.stringify(events.data.map((e) => e.type)))
  const txs = await api('GET', `/v1/customers/${id}/transactions`)
  assert.equal(txs.data.length, 1)
  assert.equal(txs.data[0].totals.total.amount, 25800)
  console.log('ok: @segment/analytics-node events stitched on', id, 'with order', txs.data[0].id)
} finally {
  server.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
}
