/**
 * The map under `key` in `map`, made when missing: nested maps let a hot path look a value up by
 * several strings it already holds, where one map would need a key built from them per request.
 */
export function innerMap<K, K2, V>(map: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = map.get(key);
  if (!inner) map.set(key, (inner = new Map()));
  return inner;
}
