//! The chain's products, placed along the aisles. Determined by the chain file alone (not the
//! seed), so the map, the simulator and tests agree on every SKU and shelf.

use std::sync::Arc;

use crate::engine::decimal::Decimal5;
use crate::engine::geo::{LatLonDeg, Meters};
use crate::engine::record::Product;
use crate::engine::Origin;
use crate::io::chain::Chain;

use super::layout::StoreLayout;

/// SKUs start here, like the original scripts' 1000–9999.
pub const FIRST_SKU: i64 = 1000;
/// Shelves face the walking line this far to either side.
const SHELF_OFFSET_M: f64 = 1.0;

/// A product on a shelf.
#[derive(Clone, Debug)]
pub struct CatalogProduct {
    /// Index into the chain's stores.
    pub store: usize,
    pub aisle: usize,
    /// Exact shelf position (the record carries it rounded to 5 decimals).
    pub position: LatLonDeg,
    pub product: Arc<Product>,
}

/// Every product of the chain, store by store, aisle by aisle.
pub fn chain_catalog(chain: &Chain) -> Vec<CatalogProduct> {
    let mut out = Vec::new();
    let per_aisle = chain.products_per_aisle.max(1);
    for (store_index, store) in chain.stores.iter().enumerate() {
        let layout = StoreLayout::new(store);
        let country: Arc<str> = Arc::from(store.country.as_str());
        for (aisle_index, (aisle, walk)) in store.aisles.iter().zip(&layout.aisles).enumerate() {
            let segment: Arc<str> = Arc::from(aisle.segment.as_str());
            let (dx, dy) = (
                walk.back.east_m - walk.front.east_m,
                walk.back.north_m - walk.front.north_m,
            );
            let len = dx.hypot(dy).max(1e-9);
            let normal = Meters::new(-dy / len, dx / len);
            let per_side = per_aisle.div_ceil(2);
            for i in 0..per_aisle {
                let side = if i % 2 == 0 { 1.0 } else { -1.0 };
                let t = ((i / 2) as f64 + 0.5) / per_side as f64;
                let on_line = walk.front.lerp(walk.back, t);
                let shelf = Meters::new(
                    on_line.east_m + normal.east_m * SHELF_OFFSET_M * side,
                    on_line.north_m + normal.north_m * SHELF_OFFSET_M * side,
                );
                let position = layout.frame.to_geo(shelf);
                let sku = FIRST_SKU + out.len() as i64;
                let product = Product {
                    sku: Some(sku),
                    segment: Some(Arc::clone(&segment)),
                    variant: Some(Arc::from(variant_of(sku))),
                    latitude: Some(degrees_to_decimal5(position.lat_deg)),
                    longitude: Some(degrees_to_decimal5(position.lon_deg)),
                    country: Some(Arc::clone(&country)),
                    origin: Origin::UNKNOWN,
                };
                out.push(CatalogProduct {
                    store: store_index,
                    aisle: aisle_index,
                    position,
                    product: Arc::new(product),
                });
            }
        }
    }
    out
}

/// A stable variant per SKU (Variant1–3, as the original scripts used).
fn variant_of(sku: i64) -> &'static str {
    match sku.wrapping_mul(2_654_435_761).rem_euclid(3) {
        0 => "Variant1",
        1 => "Variant2",
        _ => "Variant3",
    }
}

/// Degrees rounded half-away-from-zero to 5 decimals, as a DECIMAL(10,5).
pub fn degrees_to_decimal5(deg: f64) -> Decimal5 {
    let units = (deg * 100_000.0).round() as i64;
    Decimal5::from_units(units).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_aisle_gets_its_products_inside_the_store() {
        let chain = Chain::builtin().unwrap();
        let catalog = chain_catalog(&chain);
        assert_eq!(catalog.len(), 6 * 8 * 12);
        let skus: std::collections::BTreeSet<_> = catalog.iter().map(|p| p.product.sku).collect();
        assert_eq!(skus.len(), catalog.len());
        for item in &catalog {
            let store = &chain.stores[item.store];
            let layout = StoreLayout::new(store);
            let local = layout.frame.to_local(item.position);
            assert!(
                layout.is_inside(local),
                "{} outside {}",
                item.product.sku.unwrap(),
                store.id
            );
            assert_eq!(
                item.product.segment.as_deref(),
                Some(store.aisles[item.aisle].segment.as_str())
            );
            assert_eq!(
                item.product.country.as_deref(),
                Some(store.country.as_str())
            );
        }
    }
}
