//! The hash maps and sets that a call keys by its e-mails, session ids and
//! event_ids. std's default hasher (SipHash) is built to resist keys chosen by an
//! attacker and costs a batch more than its own index lookups of the same keys
//! would suggest; foldhash is several times faster. Its seed is chosen at random
//! for each backend, so a client cannot pick keys that all land in one bucket.

pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
