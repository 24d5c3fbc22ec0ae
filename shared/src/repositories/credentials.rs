//! Credentials, tokens and agent activations in the table. They are looked up
//! by key before the tenant is known, so they live in partitions of their own:
//! `CREDENTIAL#{access_key}`, `TOKEN#{sha256(token)}` and `ACTIVATION#{activation_id}`.
//!
//! Users' credentials (not agents') are also in index `List` under
//! `PROJECT#{project}#USERS`, sort key `{user_id}#{access_key}`: the tenant's
//! users, in user order, which engineer synchronization reads.

use super::{decode, encode, versioned, Versioned};
use crate::auth::agents::Activation;
use crate::auth::signature::sha256_hex;
use crate::auth::{Credential, TokenRecord};
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, IndexQuery, Item, KeyringError, Order, Page, Store, StoreError, WriteOp};
use crate::secrets::SecretBox;

const CREDENTIAL_SK: &str = "CREDENTIAL";
const TOKEN_SK: &str = "TOKEN";
const ACTIVATION_SK: &str = "ACTIVATION";

fn credential_pk(access_key: &str) -> String {
    format!("CREDENTIAL#{access_key}")
}

fn token_pk(token: &str) -> String {
    format!("TOKEN#{}", sha256_hex(token.as_bytes()))
}

fn keyring_failed(e: KeyringError) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The write that stores a new credential, its secret key sealed; fails if the access key exists.
pub async fn insert_op(secrets: &SecretBox, credential: &Credential) -> Result<WriteOp, StoreError> {
    let stored = Credential {
        secret_key: secrets.seal(&credential.secret_key).await.map_err(keyring_failed)?,
        ..credential.clone()
    };
    let item = Item::new(credential_pk(&credential.access_key), CREDENTIAL_SK, encode(&stored)?, 1);
    Ok(WriteOp::Put { item: with_user_index(item, &stored), condition: Condition::NotExists })
}

/// A user's credential is listed under its tenant's users; an agent's is not.
fn with_user_index(item: Item, credential: &Credential) -> Item {
    if credential.agent_sn.is_some() {
        return item;
    }
    let sort = format!("{}#{}", credential.user_id, credential.access_key);
    item.indexed(Index::List, users_pk(&credential.project_id), sort)
}

/// Gives a credential stored by an earlier version (without the users index
/// key) its index key, so that engineer synchronization sees its user; `false`
/// when there is no such key. Conditional on the version read.
pub async fn reindex(store: &dyn Store, access_key: &str) -> Result<bool, StoreError> {
    let Some(item) = store.get(&credential_pk(access_key), CREDENTIAL_SK).await? else { return Ok(false) };
    let credential: Credential = decode(&item)?;
    let version = item.version;
    let again = with_user_index(Item::new(item.pk, item.sk, item.data, version + 1), &credential);
    store.write(vec![WriteOp::Put { item: again, condition: Condition::VersionIs(version) }]).await?;
    Ok(true)
}

fn users_pk(project: &ProjectId) -> String {
    format!("{}#USERS", super::tenant_pk(project))
}

/// One page of the tenant's users' credentials (agents' excluded), in user
/// order, after the index key `after`; their secret keys stay sealed.
pub async fn tenant_users(
    store: &dyn Store,
    project: &ProjectId,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Credential>, Page), StoreError> {
    let pk = users_pk(project);
    let page =
        store.query_index(IndexQuery { index: Index::List, pk: &pk, after, limit, order: Order::Ascending }).await?;
    let credentials = page.items.iter().map(decode).collect::<Result<Vec<Credential>, _>>()?;
    Ok((credentials, page))
}

/// The write that removes a credential: the next request signed with it is refused.
pub fn delete_op(access_key: &str) -> WriteOp {
    WriteOp::Delete { pk: credential_pk(access_key), sk: CREDENTIAL_SK.into(), condition: Condition::Always }
}

pub async fn insert(store: &dyn Store, secrets: &SecretBox, credential: &Credential) -> Result<(), StoreError> {
    store.write(vec![insert_op(secrets, credential).await?]).await
}

/// The credential with its secret key opened.
pub async fn get(store: &dyn Store, secrets: &SecretBox, access_key: &str) -> Result<Option<Credential>, StoreError> {
    let Some(mut credential) = get_sealed(store, access_key).await? else {
        return Ok(None);
    };
    credential.secret_key = secrets.open(&credential.secret_key).await.map_err(keyring_failed)?;
    Ok(Some(credential))
}

/// The credential as stored, its secret key still sealed: enough to know whose it is.
pub async fn get_sealed(store: &dyn Store, access_key: &str) -> Result<Option<Credential>, StoreError> {
    store.get(&credential_pk(access_key), CREDENTIAL_SK).await?.as_ref().map(decode).transpose()
}

pub async fn insert_token(store: &dyn Store, token: &str, record: &TokenRecord) -> Result<(), StoreError> {
    let item = Item::new(token_pk(token), TOKEN_SK, encode(record)?, 1);
    store.write(vec![WriteOp::Put { item, condition: Condition::NotExists }]).await
}

pub async fn get_token(store: &dyn Store, token: &str) -> Result<Option<TokenRecord>, StoreError> {
    store.get(&token_pk(token), TOKEN_SK).await?.as_ref().map(decode).transpose()
}

fn activation_pk(activation_id: &str) -> String {
    format!("ACTIVATION#{activation_id}")
}

pub async fn insert_activation(store: &dyn Store, activation: &Activation) -> Result<(), StoreError> {
    let item = Item::new(activation_pk(&activation.activation_id), ACTIVATION_SK, encode(activation)?, 1);
    store.write(vec![WriteOp::Put { item, condition: Condition::NotExists }]).await
}

pub async fn get_activation(
    store: &dyn Store,
    activation_id: &str,
) -> Result<Option<Versioned<Activation>>, StoreError> {
    versioned(store.get(&activation_pk(activation_id), ACTIVATION_SK).await?)
}

/// The write that records one more use of an activation read at `version`:
/// of two registrations racing for its last use, only one lands.
pub fn activation_use_op(activation: &Activation, version: u64) -> Result<WriteOp, StoreError> {
    let item = Item::new(activation_pk(&activation.activation_id), ACTIVATION_SK, encode(activation)?, version + 1);
    Ok(WriteOp::Put { item, condition: Condition::VersionIs(version) })
}
