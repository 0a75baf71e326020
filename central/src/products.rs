//! The products file: which category each GTIN belongs to, for demand per category.
//!
//! ```toml
//! [[product]]
//! gtin = "80614141123458"
//! category = "beverages"
//! ```

use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Category of products not in the file.
pub const UNCATEGORISED: &str = "uncategorised";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductsFile {
    #[serde(default)]
    product: Vec<Product>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Product {
    gtin: String,
    category: String,
}

/// GTIN → category.
#[derive(Debug, Clone, Default)]
pub struct Products {
    categories: HashMap<String, String>,
}

/// The products file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ProductsError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

impl Products {
    /// Reads the file.
    pub fn load(path: &Path) -> Result<Products, ProductsError> {
        let bad = |reason: String| ProductsError {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let file: ProductsFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut categories = HashMap::new();
        for p in file.product {
            if p.gtin.len() != 14 || !p.gtin.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!("gtin {:?} is not 14 digits", p.gtin)));
            }
            if let Some(old) = categories.insert(p.gtin.clone(), p.category.clone()) {
                return Err(bad(format!(
                    "gtin {} is listed twice ({old:?} and {:?})",
                    p.gtin, p.category
                )));
            }
        }
        Ok(Products { categories })
    }

    /// The category of `gtin`.
    pub fn category(&self, gtin: &str) -> &str {
        self.categories
            .get(gtin)
            .map_or(UNCATEGORISED, String::as_str)
    }
}
