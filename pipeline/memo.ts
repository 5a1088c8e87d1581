/**
 * `make` remembered per key, for values asked again and again on a hot path (the index form of a
 * word, the text of an instant). Bounded: once `size` keys are held the memory starts again empty,
 * so odd input cannot grow it for ever. `make` must be pure and never return undefined.
 */
export function boundedMemo<K, V>(make: (key: K) => V, size: number): (key: K) => V {
  let memo = new Map<K, V>();
  return (key) => {
    let value = memo.get(key);
    if (value === undefined) {
      value = make(key);
      if (memo.size >= size) memo = new Map();
      memo.set(key, value);
    }
    return value;
  };
}
