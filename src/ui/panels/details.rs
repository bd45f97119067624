//! Details of what the operator clicked on the map.

use egui::{RichText, Ui};

use crate::engine::rfc3339::format_rfc3339_ms;
use crate::ui::map::{nearest_promoted_ft, Selection};
use crate::ui::model::LiveModel;

/// What the operator asked for from the details.
pub enum DetailsAction {
    None,
    PromoteProduct(i64),
    Close,
}

pub fn details(
    ui: &mut Ui,
    selection: &Selection,
    model: &LiveModel,
    display_ms: i64,
) -> DetailsAction {
    let mut action = DetailsAction::None;
    let now = model.latest_event_ms.unwrap_or(display_ms);
    match selection {
        Selection::Customer(uid) => {
            ui.label(RichText::new(format!("Customer {uid}")).strong());
            match model.customers.get(uid) {
                None => {
                    ui.weak("Left the store (no ping for 30 s).");
                }
                Some(c) => {
                    ui.label(format!("country {}", c.country.as_deref().unwrap_or("—")));
                    ui.label(format!("last ping {}", format_rfc3339_ms(c.last_ping_ms())));
                    if let Some((_, p)) = c.trail.last() {
                        ui.monospace(format!("{:.5}, {:.5}", p.lat_deg, p.lon_deg));
                    }
                    if let Some((sku, ft)) = c
                        .position_at(display_ms)
                        .and_then(|at| nearest_promoted_ft(model, at, now))
                    {
                        ui.label(format!("nearest promoted product: SKU {sku} at {ft:.0} ft"));
                    }
                    if let Some(m) = c.last_match {
                        ui.label(format!(
                            "last match {} · SKU {} at {:.0} ft",
                            format_rfc3339_ms(m.timestamp_ms),
                            m.sku.map_or("—".into(), |s| s.to_string()),
                            m.dist_to_store_ft
                        ));
                    }
                    let received = model.notifications.iter().filter(|n| n.uid == *uid).count();
                    ui.label(format!("{received} notifications in the feed"));
                }
            }
        }
        Selection::Product(sku) => {
            ui.label(RichText::new(format!("SKU {sku}")).strong());
            if let Some(p) = model.product(*sku) {
                ui.label(format!(
                    "segment {} · variant {} · {}",
                    p.product.segment.as_deref().unwrap_or("—"),
                    p.product.variant.as_deref().unwrap_or("—"),
                    p.product.country.as_deref().unwrap_or("—")
                ));
                ui.monospace(format!(
                    "{:.5}, {:.5}",
                    p.position.lat_deg, p.position.lon_deg
                ));
                ui.label(format!("published {}", format_rfc3339_ms(p.last_seen_ms)));
                match model.valid_by_sku.get(sku) {
                    Some(mark) if model.ring_active(*sku, now) => {
                        ui.label(format!(
                            "ring active (valid promotion at {})",
                            format_rfc3339_ms(mark.latest_ms)
                        ));
                        for (pid, title) in &mark.promotions {
                            ui.label(format!(
                                "• {pid}{}",
                                title
                                    .as_deref()
                                    .map(|t| format!(" — {t}"))
                                    .unwrap_or_default()
                            ));
                        }
                    }
                    _ => {
                        ui.weak("No valid promotion: the ring is idle.");
                    }
                }
                if ui.button("Promote this product…").clicked() {
                    action = DetailsAction::PromoteProduct(*sku);
                }
            }
        }
    }
    if ui.small_button("close").clicked() {
        action = DetailsAction::Close;
    }
    action
}
