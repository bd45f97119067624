//! The five topics of the pipeline and the raw record as a source hands it over.

use std::borrow::Cow;
use std::fmt;

/// A topic the pipeline reads or writes. Names are those of the original deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    CustomersLocations,
    StoresProducts,
    ProductsPromotions,
    ValidPromotions,
    NearbyCustomers,
}

impl Topic {
    pub const ALL: [Topic; 5] = [
        Topic::CustomersLocations,
        Topic::StoresProducts,
        Topic::ProductsPromotions,
        Topic::ValidPromotions,
        Topic::NearbyCustomers,
    ];
    pub const INPUTS: [Topic; 3] = [
        Topic::CustomersLocations,
        Topic::StoresProducts,
        Topic::ProductsPromotions,
    ];
    pub const OUTPUTS: [Topic; 2] = [Topic::ValidPromotions, Topic::NearbyCustomers];

    pub fn name(self) -> &'static str {
        match self {
            Topic::CustomersLocations => "customers_locations",
            Topic::StoresProducts => "stores_products",
            Topic::ProductsPromotions => "products_promotions",
            Topic::ValidPromotions => "VALID_PROMOTIONS",
            Topic::NearbyCustomers => "NEARBY_CUSTOMERS",
        }
    }

    /// The topic with exactly this name (Kafka topic names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn is_input(self) -> bool {
        Topic::INPUTS.contains(&self)
    }

    /// Dense index for per-topic counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One Kafka record as a source (dump, bus, Kafka) hands it to the engine, borrowed where the
/// source allows. The timestamp is the envelope's; `None` when the source had none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawRecord<'a> {
    pub topic: Cow<'a, str>,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<Cow<'a, str>>,
    /// Header name and value pairs; a value may be null.
    pub headers: Vec<(String, Option<String>)>,
    /// The value; `None` for a tombstone.
    pub payload: Option<Cow<'a, str>>,
}
