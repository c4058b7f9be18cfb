'use strict';
// The rlkafka topic contract in Node.js: the .avsc files parsed with avsc, and Avro single-object
// encoding (C3 01, 8-byte little-endian CRC-64-AVRO fingerprint, binary body), which avsc does not
// implement: it has fingerprints, but only by crypto hashes (MD5, SHA-256), not CRC-64-AVRO.

const fs = require('fs');
const path = require('path');
const avro = require('avsc');

const MARKER = Buffer.from([0xc3, 0x01]);
const HEADER_BYTES = 10;

// Every Avro long as a BigInt: a sampling seed or a timestamp must not lose precision, and avsc's
// default long type throws on values past 2^53. (avsc README, "custom long types".)
const LONG = avro.types.LongType.__with({
  fromBuffer: (buf) => buf.readBigInt64LE(),
  toBuffer: (n) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n) => typeof n === 'bigint',
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
});

// timestamp-millis fields (createdAtMs, timestampMs) as JS Dates (avsc README, "logical types");
// milliseconds since 1970 fit a JS number exactly
class TimestampMillis extends avro.types.LogicalType {
  _fromValue(ms) {
    return new Date(ms);
  }

  _toValue(date) {
    return date instanceof Date ? date.getTime() : undefined;
  }

  _resolve(type) {
    if (avro.Type.isType(type, 'long', 'logical:timestamp-millis')) return this._fromValue;
    return undefined;
  }
}

// CRC-64-AVRO (Rabin), exactly as the Avro specification gives it under "Schema Fingerprints".
const EMPTY = 0xc15d213aa4d7a795n;
const TABLE = (() => {
  const table = new Array(256);
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
    table[i] = fp;
  }
  return table;
})();

/** CRC-64-AVRO of `bytes`, an unsigned 64-bit BigInt. */
function crc64Avro(bytes) {
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)];
  return fp;
}

/** `0x` + 16 hex digits, as rlkafka's error messages print a fingerprint. */
function hex(fingerprint) {
  return '0x' + fingerprint.toString(16).padStart(16, '0');
}

/**
 * One record type of the contract: decode and encode its single-object bytes.
 * `type` is the avsc Type; `fingerprint` the BigInt CRC-64-AVRO of its Parsing Canonical Form.
 */
class RecordType {
  constructor(name, type) {
    this.name = name;
    this.type = type;
    // avsc's schema() without options is the Parsing Canonical Form: full names, only the
    // attributes the spec keeps, in the spec's order, each named type written out once
    this.canonicalForm = JSON.stringify(type.schema());
    this.fingerprint = crc64Avro(Buffer.from(this.canonicalForm, 'utf8'));
    this.header = Buffer.alloc(HEADER_BYTES);
    MARKER.copy(this.header, 0);
    this.header.writeBigUInt64LE(this.fingerprint, 2);
  }

  /** Single-object bytes of `value` (throws when the value does not fit the schema, naming the field). */
  encode(value) {
    const errors = [];
    if (!this.type.isValid(value, { errorHook: (p) => errors.push(p.join('.') || '<root>') })) {
      throw new Error(`not a valid ${this.name}: bad field(s) ${errors.join(', ')}`);
    }
    return Buffer.concat([this.header, this.type.toBuffer(value)]);
  }

  /** The record in `bytes`; throws an Error saying what is wrong with the header or body. */
  decode(bytes) {
    if (!bytes || bytes.length < HEADER_BYTES || bytes[0] !== MARKER[0] || bytes[1] !== MARKER[1]) {
      const head = bytes ? bytes.subarray(0, HEADER_BYTES).toString('hex') : 'null';
      throw new Error(`not Avro single-object bytes (want C3 01 + 8-byte fingerprint, got ${head})`);
    }
    const fingerprint = bytes.readBigUInt64LE(2);
    if (fingerprint !== this.fingerprint) {
      throw new Error(`writer schema fingerprint ${hex(fingerprint)} is not ${this.name}'s ${hex(this.fingerprint)}`);
    }
    // fromBuffer throws on a truncated body and on trailing bytes
    return this.type.fromBuffer(bytes.subarray(HEADER_BYTES));
  }
}

/**
 * The contract's record types, parsed from the .avsc files in `dir` (schemas/src/main/avro of the
 * repository, or what `./rlkafka schemas` prints saved one file per record). SamplingParams first:
 * Rollout refers to it by name.
 */
function loadContract(dir) {
  const registry = { long: LONG };
  const logicalTypes = { 'timestamp-millis': TimestampMillis };
  const load = (name) => {
    const file = path.join(dir, name + '.avsc');
    let json;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read schema ${file}: ${e.message}`);
    }
    return new RecordType(name, avro.Type.forSchema(json, { registry, logicalTypes }));
  };
  const samplingParams = load('SamplingParams');
  return {
    samplingParams,
    rollout: load('Rollout'),
    reward: load('Reward'),
    deadLetter: load('DeadLetter'),
  };
}

module.exports = { loadContract, crc64Avro, hex, RecordType };
