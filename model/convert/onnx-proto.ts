/**
 * A small encoder for the ONNX protobuf messages the converter writes (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto). Field numbers are those of onnx.proto.
 *
 * Why not protobufjs: it is only a transitive dependency here, it would still need the schema
 * written out by hand, and the converter only ever *writes* a handful of messages whose weights
 * live in external data files. A ~150-line encoder keeps the browser bundle small and has no
 * runtime reflection.
 */

/** TensorProto.DataType values the converter uses. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

export const BYTES_PER_ELEMENT: Record<OnnxDataType, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2 };

export type AttributeValue = number | string | number[] | { ints: number[] } | { floats: number[] } | { float: number } | { int: number };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface ExternalLocation {
  file: string;
  offset: number;
  length: number;
}

export interface TensorSpec {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  /** Inline bytes (small constants), or … */
  raw?: Uint8Array;
  /** … where the bytes live in an external data file. */
  external?: ExternalLocation;
}

/** A dimension: a fixed size or a symbolic name such as `batch_size`. */
export type Dim = number | string;

export interface ValueInfoSpec {
  name: string;
  dataType: OnnxDataType;
  shape: Dim[];
}

export interface ModelSpec {
  irVersion: number;
  opsets: Array<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  graph: {
    name: string;
    nodes: NodeSpec[];
    initializers: TensorSpec[];
    inputs: ValueInfoSpec[];
    outputs: ValueInfoSpec[];
  };
  metadata?: Record<string, string>;
}

const textEncoder = new TextEncoder();

/** Appends protobuf wire-format fields to a growing list of byte chunks. */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch = new Uint8Array(16);
  length = 0;

  private push(bytes: Uint8Array) {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number) {
    if (!Number.isSafeInteger(value)) throw new Error(`protobuf varint out of range: ${value}`);
    let n = 0;
    if (value < 0) {
      // Negative int64: two's complement over 64 bits, always 10 bytes.
      let big = BigInt.asUintN(64, BigInt(value));
      while (big >= 0x80n) {
        this.scratch[n++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      this.scratch[n++] = Number(big);
    } else {
      let v = value;
      while (v >= 0x80) {
        this.scratch[n++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.scratch[n++] = v;
    }
    this.push(this.scratch.slice(0, n));
  }

  private tag(field: number, wireType: number) {
    this.varint(field * 8 + wireType);
  }

  int(field: number, value: number) {
    this.tag(field, 0);
    this.varint(value);
  }

  float(field: number, value: number) {
    this.tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
  }

  bytes(field: number, value: Uint8Array) {
    this.tag(field, 2);
    this.varint(value.length);
    this.push(value);
  }

  string(field: number, value: string) {
    this.bytes(field, textEncoder.encode(value));
  }

  message(field: number, write: (w: ProtoWriter) => void) {
    const inner = new ProtoWriter();
    write(inner);
    this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: number[]) {
    const inner = new ProtoWriter();
    for (const value of values) inner.varint(value);
    this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: number[]) {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((value, i) => view.setFloat32(i * 4, value, true));
    this.bytes(field, bytes);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function writeAttribute(w: ProtoWriter, name: string, value: AttributeValue) {
  w.string(1, name);
  if (typeof value === 'string') {
    w.bytes(4, textEncoder.encode(value));
    w.int(20, ATTR_STRING);
  } else if (typeof value === 'number') {
    // A bare number is an int attribute; floats must say so ({ float }), so 1 never means 1.0.
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; use { float: ${value} }`);
    w.int(3, value);
    w.int(20, ATTR_INT);
  } else if (Array.isArray(value) || 'ints' in value) {
    w.packedInts(8, Array.isArray(value) ? value : value.ints);
    w.int(20, ATTR_INTS);
  } else if ('floats' in value) {
    w.packedFloats(7, value.floats);
    w.int(20, ATTR_FLOATS);
  } else if ('float' in value) {
    w.float(2, value.float);
    w.int(20, ATTR_FLOAT);
  } else {
    w.int(3, value.int);
    w.int(20, ATTR_INT);
  }
}

function writeNode(w: ProtoWriter, node: NodeSpec) {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name);
  w.string(4, node.opType);
  if (node.domain) w.string(7, node.domain);
  for (const [name, value] of Object.entries(node.attributes ?? {})) w.message(5, (a) => writeAttribute(a, name, value));
}

function writeTensor(w: ProtoWriter, tensor: TensorSpec) {
  w.packedInts(1, tensor.dims);
  w.int(2, tensor.dataType);
  w.string(8, tensor.name);
  if (tensor.external) {
    const entries: Array<[string, string]> = [
      ['location', tensor.external.file],
      ['offset', String(tensor.external.offset)],
      ['length', String(tensor.external.length)],
    ];
    for (const [key, value] of entries) {
      w.message(13, (e) => {
        e.string(1, key);
        e.string(2, value);
      });
    }
    w.int(14, 1); // DataLocation.EXTERNAL
  } else {
    w.bytes(9, tensor.raw ?? new Uint8Array(0));
  }
}

function writeValueInfo(w: ProtoWriter, info: ValueInfoSpec) {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, info.dataType);
      tensorType.message(2, (shape) => {
        for (const dim of info.shape) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
}

/** Serialises a model to the bytes of a `.onnx` file. */
export function encodeModel(model: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  w.message(7, (g) => {
    for (const node of model.graph.nodes) g.message(1, (n) => writeNode(n, node));
    g.string(2, model.graph.name);
    for (const tensor of model.graph.initializers) g.message(5, (t) => writeTensor(t, tensor));
    for (const input of model.graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of model.graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  for (const opset of model.opsets) {
    w.message(8, (o) => {
      if (opset.domain) o.string(1, opset.domain);
      o.int(2, opset.version);
    });
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (e) => {
      e.string(1, key);
      e.string(2, value);
    });
  }
  return w.finish();
}
