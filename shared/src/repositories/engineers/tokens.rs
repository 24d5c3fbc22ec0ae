//! Subscription confirmation links. The link carries a random token and is
//! followed without a signature, before the tenant is known, so its item lives
//! in a partition of its own, keyed by the token's SHA-256 (the token itself is
//! never stored): `SUBSCRIPTION_TOKEN#{sha256}`, holding whose subscription it
//! confirms. Deleting it (condition `Exists`) in the confirming transaction
//! makes the link single-use.

use serde::{Deserialize, Serialize};

use super::super::{decode, encode};
use crate::auth::signature::sha256_hex;
use crate::domain::notification::Channel;
use crate::domain::tenant::ProjectId;
use crate::limits;
use crate::ports::{Condition, Item, Store, StoreError, WriteOp};

const TOKEN_SK: &str = "SUBSCRIPTION_TOKEN";

/// Whose pending subscription a token confirms, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenOwner {
    pub project_id: ProjectId,
    pub user_id: String,
    pub channel: Channel,
    pub expires_at: i64,
}

fn token_pk(token_hash: &str) -> String {
    format!("SUBSCRIPTION_TOKEN#{token_hash}")
}

/// A fresh token (256 random bits, hex) and its hash, the key it is stored under.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; limits::SUBSCRIPTION_TOKEN_BYTES];
    aws_lc_rs::rand::fill(&mut bytes).expect("the OS random source works");
    let token = hex::encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The write that stores a new token; a repeated hash (never, with 256 bits) fails it.
pub fn insert_op(token_hash: &str, owner: &TokenOwner) -> Result<WriteOp, StoreError> {
    let item = Item::new(token_pk(token_hash), TOKEN_SK, encode(owner)?, 1);
    Ok(WriteOp::Put { item, condition: Condition::NotExists })
}

/// The write that makes a link stop working (its subscription replaced or removed).
pub fn delete_op(token_hash: &str) -> WriteOp {
    WriteOp::Delete { pk: token_pk(token_hash), sk: TOKEN_SK.into(), condition: Condition::Always }
}

/// The write that uses a link up: of two racing confirmations, only one finds it.
pub fn use_op(token_hash: &str) -> WriteOp {
    WriteOp::Delete { pk: token_pk(token_hash), sk: TOKEN_SK.into(), condition: Condition::Exists }
}

pub async fn get(store: &dyn Store, token_hash: &str) -> Result<Option<TokenOwner>, StoreError> {
    store.get(&token_pk(token_hash), TOKEN_SK).await?.as_ref().map(decode).transpose()
}
