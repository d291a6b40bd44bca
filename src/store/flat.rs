//! Flattening of sops metadata into `key__list_0__map_sub` keys (dotenv, INI). TO BE WRITTEN.
use crate::tree::Value;

pub fn flatten(_metadata: &Value) -> Vec<(String, String)> {
    todo!()
}
pub fn unflatten(_flat: &[(String, String)]) -> Value {
    todo!()
}
