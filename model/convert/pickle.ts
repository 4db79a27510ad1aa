import { ConversionError } from './errors';
import type { SourceDtype } from './tensors';

/**
 * A safe reader for the pickle inside a PyTorch checkpoint (`data.pkl`). It interprets the
 * handful of opcodes a state dict uses and knows exactly the imports the hub's pickle scan lists
 * for one: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
 * `torch._tensor._rebuild_from_type_v2`, `torch.Tensor` and the `torch.*Storage` types. Those
 * "calls" are carried out here by fixed code (make a dict, describe a tensor); nothing from the
 * file is ever executed. Any other import or opcode (INST, OBJ, NEWOBJ, EXT…) stops the read.
 */

export interface StorageRef {
  kind: 'storage';
  /** The zip entry `<archive>/data/<key>` holding the storage's bytes. */
  key: string;
  dtype: SourceDtype;
  /** Elements in the storage. */
  numel: number;
}

export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements of the storage. */
  storageOffset: number;
  shape: number[];
  strides: number[];
}

class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get path() {
    return `${this.module}.${this.name}`;
  }
}
class Tuple {
  constructor(readonly items: Value[]) {}
}
class Dict {
  readonly map = new Map<Value, Value>();
}
type Value = null | boolean | number | string | Uint8Array | Value[] | Tuple | Dict | Global | StorageRef | TensorRef;

const STORAGE_TYPES: Record<string, SourceDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};
const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._tensor._rebuild_from_type_v2',
  'torch.Tensor',
  ...Object.keys(STORAGE_TYPES).map((name) => `torch.${name}`),
]);

const OPCODE_NAMES: Record<number, string> = {
  0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x50: 'PERSID', 0x53: 'STRING', 0x56: 'UNICODE', 0x67: 'GET', 0x69: 'INST',
  0x6f: 'OBJ', 0x70: 'PUT', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x92: 'NEWOBJ_EX', 0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
};

/** The state dict of a checkpoint's `data.pkl`: tensor name → where its elements are. */
export function readStateDictPickle(data: Uint8Array, file: string): Map<string, TensorRef> {
  const refuse = (what: string) =>
    new ConversionError(
      'unsafe-pickle',
      `${file} was refused: its pickle ${what}, which a PyTorch state dict never needs (loading it could run code). Use a safetensors version of the model if there is one.`,
    );
  const damaged = (what: string) => new ConversionError('bad-input', `${file}: the pickle is damaged (${what}).`);
  const decoder = new TextDecoder();
  const stack: Value[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Value>();
  let at = 0;

  const need = (n: number) => {
    if (at + n > data.length) throw damaged('it ends in the middle of an opcode');
  };
  const byte = () => (need(1), data[at++]!);
  const uint = (n: number) => {
    need(n);
    let value = 0;
    for (let i = n - 1; i >= 0; i--) value = value * 256 + data[at + i]!;
    at += n;
    if (!Number.isSafeInteger(value)) throw damaged('a length beyond 2^53');
    return value;
  };
  const bytes = (n: number) => {
    need(n);
    const out = data.subarray(at, at + n);
    at += n;
    return out;
  };
  const line = () => {
    const end = data.indexOf(0x0a, at);
    if (end < 0) throw damaged('an unterminated line');
    const text = decoder.decode(data.subarray(at, end));
    at = end + 1;
    return text;
  };
  const pop = (): Value => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) throw damaged('the stack ran empty');
    return stack.pop()!;
  };
  const popMark = (): Value[] => {
    const mark = marks.pop();
    if (mark === undefined) throw damaged('no MARK to pop to');
    return stack.splice(mark);
  };
  const top = (): Value => {
    if (stack.length === 0) throw damaged('the stack is empty');
    return stack[stack.length - 1]!;
  };
  const importGlobal = (module: string, name: string): Global => {
    const global = new Global(module, name);
    if (!ALLOWED_GLOBALS.has(global.path)) throw refuse(`imports ${global.path}`);
    return global;
  };
  const setItems = (target: Value, items: Value[]) => {
    if (!(target instanceof Dict)) throw refuse('sets items on something that is not a dict');
    if (items.length % 2) throw damaged('an odd number of dict items');
    for (let i = 0; i < items.length; i += 2) target.map.set(items[i]!, items[i + 1]!);
  };
  const int = (value: Value, what: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw damaged(`${what} is not an integer`);
    return value;
  };
  const ints = (value: Value, what: string): number[] => {
    if (!(value instanceof Tuple)) throw damaged(`${what} is not a tuple`);
    return value.items.map((item) => int(item, what));
  };

  const rebuildTensor = (args: Value[]): TensorRef => {
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    const [storage, offset, size, stride] = args;
    if (!storage || typeof storage !== 'object' || !('kind' in storage) || storage.kind !== 'storage') {
      throw damaged('a tensor without a storage');
    }
    const shape = ints(size!, 'a tensor size');
    const strides = ints(stride!, 'a tensor stride');
    if (shape.length !== strides.length) throw damaged('a tensor whose size and stride differ in length');
    return { kind: 'tensor', storage, storageOffset: int(offset!, 'a storage offset'), shape, strides };
  };

  const call = (callable: Value, args: Value): Value => {
    if (!(callable instanceof Global)) throw refuse('calls something that is not an import');
    if (!(args instanceof Tuple)) throw damaged('REDUCE arguments are not a tuple');
    switch (callable.path) {
      case 'collections.OrderedDict':
        if (args.items.length !== 0) throw refuse('builds an OrderedDict from arguments');
        return new Dict();
      case 'torch._utils._rebuild_tensor_v2':
        return rebuildTensor(args.items);
      case 'torch._tensor._rebuild_from_type_v2': {
        // _rebuild_from_type_v2(func, new_type, args, state): a plain tensor with Python attributes.
        const [func, type, inner] = args.items;
        if (!(func instanceof Global) || func.path !== 'torch._utils._rebuild_tensor_v2') throw refuse('rebuilds a tensor through another function');
        if (!(type instanceof Global) || type.path !== 'torch.Tensor') throw refuse('rebuilds a tensor as another type');
        if (!(inner instanceof Tuple)) throw damaged('tensor arguments are not a tuple');
        return rebuildTensor(inner.items);
      }
      default:
        throw refuse(`calls ${callable.path}`);
    }
  };

  for (;;) {
    const opcode = byte();
    switch (opcode) {
      case 0x80: // PROTO
        byte();
        break;
      case 0x95: // FRAME
        uint(8);
        break;
      case 0x2e: {
        // STOP
        const result = pop();
        return collectTensors(result, file);
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: {
        // BININT: signed 32-bit
        const value = uint(4);
        stack.push(value >= 0x80000000 ? value - 0x100000000 : value);
        break;
      }
      case 0x4b: // BININT1
        stack.push(uint(1));
        break;
      case 0x4d: // BININT2
        stack.push(uint(2));
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4: little-endian two's complement
        const n = opcode === 0x8a ? uint(1) : uint(4);
        const raw = bytes(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]!);
        if (n > 0 && raw[n - 1]! & 0x80) value -= 1n << BigInt(8 * n);
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw damaged('an integer beyond 2^53');
        stack.push(Number(value));
        break;
      }
      case 0x47: {
        // BINFLOAT: big-endian double
        const raw = bytes(8);
        stack.push(new DataView(raw.buffer, raw.byteOffset, 8).getFloat64(0, false));
        break;
      }
      // Strings and bytes: a length of 1, 4 or 8 bytes, then the data.
      case 0x8c: // SHORT_BINUNICODE
      case 0x55: // SHORT_BINSTRING
        stack.push(decoder.decode(bytes(uint(1))));
        break;
      case 0x58: // BINUNICODE
      case 0x54: // BINSTRING
        stack.push(decoder.decode(bytes(uint(4))));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(decoder.decode(bytes(uint(8))));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(uint(1)));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(uint(4)));
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(uint(8)));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new Tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new Tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new Tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new Tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new Tuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const value = pop();
        const list = top();
        if (!Array.isArray(list)) throw refuse('appends to something that is not a list');
        list.push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const values = popMark();
        const list = top();
        if (!Array.isArray(list)) throw refuse('appends to something that is not a list');
        list.push(...values);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Dict());
        break;
      case 0x64: {
        // DICT
        const dict = new Dict();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(uint(1), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(uint(4), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const index = opcode === 0x68 ? uint(1) : uint(4);
        if (!memo.has(index)) throw damaged(`memo entry ${index} is missing`);
        stack.push(memo.get(index)!);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(importGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw damaged('STACK_GLOBAL without two strings');
        stack.push(importGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(call(callable, args));
        break;
      }
      case 0x62: {
        // BUILD: only an OrderedDict's own attributes (a state dict's `_metadata`), which are ignored
        const state = pop();
        if (!(top() instanceof Dict) || !(state instanceof Dict)) throw refuse('sets the state of an object (BUILD) other than a dict');
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = pop();
        if (!(pid instanceof Tuple) || pid.items[0] !== 'storage' || pid.items.length < 5) throw refuse('uses a persistent id that is not a tensor storage');
        const [, type, key, , numel] = pid.items;
        if (!(type instanceof Global) || type.module !== 'torch' || !(type.name in STORAGE_TYPES)) throw refuse('uses a storage of an unknown type');
        if (typeof key !== 'string') throw damaged('a storage key is not a string');
        stack.push({ kind: 'storage', key, dtype: STORAGE_TYPES[type.name]!, numel: int(numel!, 'a storage size') });
        break;
      }
      default: {
        const name = OPCODE_NAMES[opcode];
        throw refuse(`uses the opcode ${name ?? `0x${opcode.toString(16).padStart(2, '0')}`}${name ? ` (0x${opcode.toString(16)})` : ''}`);
      }
    }
  }
}

function isTensor(value: Value): value is TensorRef {
  return !!value && typeof value === 'object' && 'kind' in value && value.kind === 'tensor';
}

/** The name → tensor pairs of the unpickled result (a state dict, or one wrapped in a dict). */
function collectTensors(result: Value, file: string): Map<string, TensorRef> {
  const fromDict = (dict: Dict) => {
    const tensors = new Map<string, TensorRef>();
    for (const [key, value] of dict.map) if (typeof key === 'string' && isTensor(value)) tensors.set(key, value);
    return tensors;
  };
  if (!(result instanceof Dict)) throw new ConversionError('bad-input', `${file} does not hold a state dict (its pickle is not a dict).`);
  let tensors = fromDict(result);
  if (tensors.size === 0) {
    // {'state_dict': {...}} or {'model': {...}}: one nested dict of tensors.
    const nested = [...result.map.values()].filter((value): value is Dict => value instanceof Dict).map(fromDict).filter((map) => map.size > 0);
    if (nested.length === 1) tensors = nested[0]!;
  }
  if (tensors.size === 0) throw new ConversionError('bad-input', `${file} holds no tensors.`);
  return tensors;
}
