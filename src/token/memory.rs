//! A map that forgets its oldest entries beyond a capacity, kept in insertion
//! order so that it exports and imports as it was.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone)]
pub struct Bounded<V> {
    map: HashMap<String, V>,
    order: VecDeque<String>,
    capacity: usize,
}

impl<V> Default for Bounded<V> {
    fn default() -> Bounded<V> {
        Bounded::new(usize::MAX)
    }
}

impl<V> Bounded<V> {
    pub fn new(capacity: usize) -> Bounded<V> {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.trim();
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Inserts or replaces; a new key forgets the oldest beyond the capacity.
    pub fn insert(&mut self, key: String, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        self.trim();
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        let value = self.map.remove(key)?;
        self.order.retain(|k| k != key);
        Some(value)
    }

    fn trim(&mut self) {
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// As a list of `[key, value]`, oldest first.
impl<V: Serialize> Serialize for Bounded<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.order.iter().filter_map(|k| self.map.get(k).map(|v| (k, v))))
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Bounded<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bounded<V>, D::Error> {
        let mut out = Bounded::default();
        for (key, value) in Vec::<(String, V)>::deserialize(d)? {
            out.insert(key, value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_beyond_capacity_and_round_trips_in_order() {
        let mut m = Bounded::new(2);
        m.insert("a".into(), 1);
        m.insert("b".into(), 2);
        m.insert("a".into(), 3); // replaced, keeps its place
        m.insert("c".into(), 4);
        assert_eq!((m.get("a"), m.get("b"), m.get("c")), (None, Some(&2), Some(&4)));
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"[["b",2],["c",4]]"#);
        let mut back: Bounded<i32> = serde_json::from_str(&json).unwrap();
        back.set_capacity(1);
        assert_eq!((back.get("b"), back.get("c")), (None, Some(&4)));
        assert_eq!(back.remove("c"), Some(4));
        assert_eq!(back.len(), 0);
    }
}
