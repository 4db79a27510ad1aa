/**
 * Builds, as ONNX bytes, the tiny graph that cuts KV-cache tensors to their first `keep` positions
 * along their sequence axis: one Slice per tensor, `keep` given at run time. Run as its own
 * session on the execution provider that holds the cache (WebGPU with GPU-buffer inputs and
 * outputs), it cuts the cache where it lives: nothing is copied to the CPU.
 *
 * Protocol Buffers by hand: the graph needs a dozen fields of onnx.proto, and a generated or
 * reflection-based codec for them would be far more code than the fields themselves.
 */

/** ONNX TensorProto.DataType codes for the cache types a decoder uses. */
const ELEMENT_TYPES: Record<string, number> = { float32: 1, float16: 10, bfloat16: 16 };
const INT64 = 7;

export interface SliceTensorSpec {
  /** ORT type name of the tensor ('float32', 'float16'). */
  type: string;
  /** Rank of the tensor and the axis to cut. */
  rank: number;
  axis: number;
}

/** Input names are `cache.N` and `keep`; outputs `cut.N`. */
export function buildCacheSliceModel(specs: SliceTensorSpec[]): Uint8Array {
  const graph = new Message();
  const axes = new Set<number>();
  specs.forEach((spec, i) => {
    const node = new Message();
    node.string(1, `cache.${i}`).string(1, 'starts').string(1, 'keep').string(1, `axis.${spec.axis}`);
    node.string(2, `cut.${i}`).string(3, `slice.${i}`).string(4, 'Slice');
    graph.message(1, node);
    axes.add(spec.axis);
  });
  graph.string(2, 'realign_cache_slice');
  graph.message(5, int64Initializer('starts', [0]));
  for (const axis of axes) graph.message(5, int64Initializer(`axis.${axis}`, [axis]));
  specs.forEach((spec, i) => {
    const elementType = ELEMENT_TYPES[spec.type];
    if (elementType === undefined) throw new Error(`The KV cache type ${spec.type} cannot be cut.`);
    const dims = Array.from({ length: spec.rank }, (_, d) => `d${i}_${d}`);
    graph.message(11, valueInfo(`cache.${i}`, elementType, dims));
    graph.message(12, valueInfo(`cut.${i}`, elementType, dims.map((dim, d) => (d === spec.axis ? `keep_${i}` : dim))));
  });
  graph.message(11, valueInfo('keep', INT64, [1]));

  const opset = new Message().string(1, '').varint(2, 13);
  const model = new Message().varint(1, 8).string(2, 'realign').message(8, opset).message(7, graph);
  return model.bytes();
}

function int64Initializer(name: string, values: number[]): Message {
  const tensor = new Message().varint(1, values.length).varint(2, INT64);
  for (const value of values) tensor.varint(7, value);
  return tensor.string(8, name);
}

function valueInfo(name: string, elementType: number, dims: Array<string | number>): Message {
  const shape = new Message();
  for (const dim of dims) shape.message(1, typeof dim === 'number' ? new Message().varint(1, dim) : new Message().string(2, dim));
  const tensorType = new Message().varint(1, elementType).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/** The three wire types this graph needs: varint, length-delimited string and sub-message. */
class Message {
  private readonly parts: number[] = [];

  varint(field: number, value: number): this {
    this.key(field, 0);
    this.raw(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytesField(field, value.bytes());
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }

  private bytesField(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.raw(value.length);
    for (const byte of value) this.parts.push(byte);
    return this;
  }

  private key(field: number, wireType: number): void {
    this.raw(field * 8 + wireType);
  }

  /** Non-negative integers only (all this graph holds). */
  private raw(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.parts.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.parts.push(rest);
  }
}
