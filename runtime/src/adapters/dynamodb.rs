//! The store on DynamoDB: one table keyed by `pk` (hash) and `sk` (range), the
//! document in `data`, the optimistic-lock `version`, counters in `counter`.
//! Endpoint and credentials come from the environment through aws-config
//! (`AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, DeleteRequest, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, PutRequest, ReturnValue, ScalarAttributeType, TransactWriteItem, Update,
    WriteRequest,
};
use aws_sdk_dynamodb::Client;

use coc_shared::ports::{
    Condition, Index, IndexKey, IndexQuery, Item, Order, Page, PageQuery, Store, StoreError, WriteOp,
};

/// How often a transaction that collided with another one is tried again.
/// Collisions are transient; the retried transaction then either succeeds or
/// fails on its condition.
const TRANSACTION_CONFLICT_RETRIES: u32 = 8;
/// How often a batch write sends again what DynamoDB left unprocessed.
const BATCH_UNPROCESSED_RETRIES: u32 = 10;

pub struct DynamoStore {
    client: Client,
    table: String,
}

type Attributes = HashMap<String, AttributeValue>;

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: &str, sk: &str) -> Attributes {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// The condition expression and its values for one write.
fn condition_expression(condition: Condition) -> (Option<String>, Option<Attributes>) {
    match condition {
        Condition::Always => (None, None),
        Condition::NotExists => (Some("attribute_not_exists(pk)".into()), None),
        Condition::Exists => (Some("attribute_exists(pk)".into()), None),
        Condition::VersionIs(v) => {
            (Some("version = :expected_version".into()), Some(HashMap::from([(":expected_version".into(), n(v))])))
        }
    }
}

fn backend<E: std::fmt::Debug>(err: E) -> StoreError {
    StoreError::Backend(format!("{err:?}"))
}

/// Why a single-item write failed: DynamoDB's error code (a failed condition
/// or a collision with a transaction is not a backend failure) and the error.
struct Refusal {
    code: Option<String>,
    error: StoreError,
}

fn refusal<E, R>(err: SdkError<E, R>) -> Refusal
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    Refusal { code: err.code().map(str::to_owned), error: backend(err) }
}

fn item_from(mut attrs: Attributes) -> Result<Item, StoreError> {
    let mut text = |name: &str| match attrs.remove(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(StoreError::Backend(format!("item attribute {name} is missing or not a string"))),
    };
    let (pk, sk, data) = (text("pk")?, text("sk")?, text("data")?);
    let version = match attrs.get("version") {
        Some(AttributeValue::N(v)) => v.parse().map_err(backend)?,
        _ => return Err(StoreError::Backend("item attribute version is missing".into())),
    };
    let mut index_key = |index: Index| {
        let (pk, sk) = index.attributes();
        match (attrs.remove(pk), attrs.remove(sk)) {
            (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(IndexKey { pk, sk }),
            _ => None,
        }
    };
    let (list_key, filter_key) = (index_key(Index::List), index_key(Index::Filter));
    let tally = match attrs.get(TALLY) {
        Some(AttributeValue::N(v)) => v.parse().map_err(backend)?,
        _ => 0,
    };
    Ok(Item { pk, sk, data, version, list_key, filter_key, tally })
}

/// Where a page's `after` key lies relative to the keys that start with `prefix`,
/// seen in the direction of the read.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    Before,
    Inside,
    Past,
}

fn place_of(after: &str, prefix: &str, order: Order) -> Place {
    if after.starts_with(prefix) {
        return Place::Inside;
    }
    // Not an extension of the prefix, so it sorts wholly below or above the range.
    match (after < prefix, order) {
        (true, Order::Ascending) | (false, Order::Descending) => Place::Before,
        (true, Order::Descending) | (false, Order::Ascending) => Place::Past,
    }
}

fn item_attributes(item: &Item) -> Attributes {
    let mut attrs = key(&item.pk, &item.sk);
    attrs.insert("data".into(), s(&item.data));
    attrs.insert("version".into(), n(item.version));
    for index in Index::ALL {
        if let Some(key) = item.index_key(index) {
            let (pk, sk) = index.attributes();
            attrs.insert(pk.into(), s(&key.pk));
            attrs.insert(sk.into(), s(&key.sk));
        }
    }
    if item.tally != 0 {
        attrs.insert(TALLY.into(), AttributeValue::N(item.tally.to_string()));
    }
    attrs
}

/// The attribute an item's tally is kept in (absent: 0). Not `counter`, which
/// `Add` and `increment` keep in items of their own.
const TALLY: &str = "tally";

/// One write as DynamoDB takes it. Built once per [`WriteOp`] and sent either
/// alone (PutItem, DeleteItem, UpdateItem) or as a member of a transaction,
/// so both ways write exactly the same thing.
struct Request {
    action: Action,
    condition: Option<String>,
    names: Option<HashMap<String, String>>,
    values: Option<Attributes>,
}

enum Action {
    Put(Attributes),
    Delete(Attributes),
    Update { key: Attributes, expression: String },
}

/// `extra` merged into `values`, `None` when both are empty (DynamoDB refuses an empty map).
fn merged(values: Option<Attributes>, extra: Attributes) -> Option<Attributes> {
    let mut all = values.unwrap_or_default();
    all.extend(extra);
    (!all.is_empty()).then_some(all)
}

impl Request {
    fn of(op: WriteOp) -> Request {
        match op {
            WriteOp::Put { item, condition } => {
                let (condition, values) = condition_expression(condition);
                Request { action: Action::Put(item_attributes(&item)), condition, names: None, values }
            }
            WriteOp::Delete { pk, sk, condition } => {
                let (condition, values) = condition_expression(condition);
                Request { action: Action::Delete(key(&pk, &sk)), condition, names: None, values }
            }
            WriteOp::Add { pk, sk, delta } => Request {
                action: Action::Update { key: key(&pk, &sk), expression: "ADD #counter :delta".into() },
                condition: None,
                names: Some(HashMap::from([("#counter".to_owned(), "counter".to_owned())])),
                values: Some(HashMap::from([(":delta".to_owned(), AttributeValue::N(delta.to_string()))])),
            },
            WriteOp::Tally { item, condition, delta } => Request::tally(item, condition, delta),
        }
    }

    /// An UpdateItem that sets everything a Put would (removing index keys the
    /// item no longer has) and adds `delta` to the tally the item keeps.
    fn tally(item: Item, condition: Condition, delta: i64) -> Request {
        let mut names = HashMap::from([
            ("#data".to_owned(), "data".to_owned()),
            ("#version".to_owned(), "version".to_owned()),
            ("#tally".to_owned(), TALLY.to_owned()),
        ]);
        let mut values = HashMap::from([
            (":data".to_owned(), s(&item.data)),
            (":version".to_owned(), n(item.version)),
            (":delta".to_owned(), AttributeValue::N(delta.to_string())),
        ]);
        let (mut set, mut remove) = (vec!["#data = :data".to_owned(), "#version = :version".to_owned()], Vec::new());
        for index in Index::ALL {
            let (pk, sk) = index.attributes();
            for name in [pk, sk] {
                names.insert(format!("#{name}"), name.to_owned());
            }
            match item.index_key(index) {
                Some(key) => {
                    set.push(format!("#{pk} = :{pk}, #{sk} = :{sk}"));
                    values.insert(format!(":{pk}"), s(&key.pk));
                    values.insert(format!(":{sk}"), s(&key.sk));
                }
                None => remove.push(format!("#{pk}, #{sk}")),
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        expression.push_str(" ADD #tally :delta");
        let (condition, condition_values) = condition_expression(condition);
        Request {
            action: Action::Update { key: key(&item.pk, &item.sk), expression },
            condition,
            names: Some(names),
            values: merged(condition_values, values),
        }
    }

    /// The request as a member of a transaction.
    fn transact_item(self, table: &str) -> Result<TransactWriteItem, StoreError> {
        let Request { action, condition, names, values } = self;
        let item = match action {
            Action::Put(item) => TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(backend)?,
            ),
            Action::Delete(key) => TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(backend)?,
            ),
            Action::Update { key, expression } => TransactWriteItem::builder().update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .update_expression(expression)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(backend)?,
            ),
        };
        Ok(item.build())
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }

    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::from_config(&aws_config::load_from_env().await, table)
    }

    /// With a configuration loaded once for all of a process's clients.
    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    /// Creates the table with the key schema template.yaml declares. For tests
    /// and local development against DynamoDB Local; on AWS, SAM owns the table.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attribute = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        let key_element =
            |name: &str, key_type| KeySchemaElement::builder().attribute_name(name).key_type(key_type).build();
        let mut request = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("pk").map_err(backend)?)
            .attribute_definitions(attribute("sk").map_err(backend)?)
            .key_schema(key_element("pk", KeyType::Hash).map_err(backend)?)
            .key_schema(key_element("sk", KeyType::Range).map_err(backend)?);
        for index in Index::ALL {
            let (pk, sk) = index.attributes();
            let gsi = GlobalSecondaryIndex::builder()
                .index_name(index.gsi_name())
                .key_schema(key_element(pk, KeyType::Hash).map_err(backend)?)
                .key_schema(key_element(sk, KeyType::Range).map_err(backend)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(backend)?;
            request = request
                .attribute_definitions(attribute(pk).map_err(backend)?)
                .attribute_definitions(attribute(sk).map_err(backend)?)
                .global_secondary_indexes(gsi);
        }
        request.send().await.map_err(backend)?;
        Ok(())
    }

    /// A consistent Query of the keys of `pk` that start with `sk_prefix`.
    /// `begins_with` in the key condition makes it a range read of the sort key:
    /// DynamoDB reads (and bills) only the matching items. This adapter never
    /// uses Scan, which reads the whole table (a test greps for it).
    fn prefix_query(&self, pk: &str, sk_prefix: &str) -> QueryFluentBuilder {
        let request =
            self.client.query().table_name(&self.table).consistent_read(true).expression_attribute_values(":pk", s(pk));
        if sk_prefix.is_empty() {
            request.key_condition_expression("pk = :pk")
        } else {
            request
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(sk_prefix))
        }
    }

    /// One write alone. A write that meets a transaction in progress on its
    /// item is refused by DynamoDB; like a transaction's collision, that is
    /// transient and tried again.
    async fn write_one(&self, op: WriteOp) -> Result<(), StoreError> {
        let request = Request::of(op);
        let mut attempt = 0;
        loop {
            let refused = match self.send_one(&request).await {
                Ok(()) => return Ok(()),
                Err(refused) => refused,
            };
            match refused.code.as_deref() {
                Some("ConditionalCheckFailedException") => return Err(StoreError::ConditionFailed),
                Some("TransactionConflictException") if attempt < TRANSACTION_CONFLICT_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(10 << attempt.min(5))).await;
                }
                _ => return Err(refused.error),
            }
        }
    }

    /// Sends a single-item request once.
    async fn send_one(&self, request: &Request) -> Result<(), Refusal> {
        let Request { action, condition, names, values } = request;
        let (condition, names, values) = (condition.clone(), names.clone(), values.clone());
        match action {
            Action::Put(item) => self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .set_condition_expression(condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .send()
                .await
                .map(|_| ())
                .map_err(refusal),
            Action::Delete(key) => self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .set_condition_expression(condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .send()
                .await
                .map(|_| ())
                .map_err(refusal),
            Action::Update { key, expression } => self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .update_expression(expression)
                .set_condition_expression(condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .send()
                .await
                .map(|_| ())
                .map_err(refusal),
        }
    }

    /// One BatchWriteItem, sending again what DynamoDB left unprocessed
    /// (throttling) after a growing pause.
    async fn batch_write(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut attempt = 0;
        while !requests.is_empty() {
            let output =
                self.client.batch_write_item().request_items(&self.table, requests).send().await.map_err(backend)?;
            requests = output.unprocessed_items.and_then(|mut left| left.remove(&self.table)).unwrap_or_default();
            if !requests.is_empty() {
                attempt += 1;
                if attempt > BATCH_UNPROCESSED_RETRIES {
                    return Err(StoreError::Backend(format!("{} writes left unprocessed", requests.len())));
                }
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
            }
        }
        Ok(())
    }

    async fn write_transaction(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let items =
            ops.into_iter().map(|op| Request::of(op).transact_item(&self.table)).collect::<Result<Vec<_>, _>>()?;

        let mut attempt = 0;
        loop {
            let outcome = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match outcome {
                Ok(_) => return Ok(()),
                Err(SdkError::ServiceError(service)) => service.into_err(),
                Err(other) => return Err(backend(other)),
            };
            let codes: Vec<String> = if err.is_transaction_canceled_exception() {
                match &err {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
                        canceled,
                    ) => canceled.cancellation_reasons().iter().filter_map(|r| r.code().map(str::to_owned)).collect(),
                    _ => Vec::new(),
                }
            } else if err.is_transaction_in_progress_exception() {
                vec!["TransactionConflict".into()]
            } else {
                return Err(backend(err));
            };
            if codes.iter().any(|c| c == "ConditionalCheckFailed") {
                return Err(StoreError::ConditionFailed);
            }
            if codes.iter().any(|c| c == "TransactionConflict") && attempt < TRANSACTION_CONFLICT_RETRIES {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(5))).await;
                continue;
            }
            return Err(StoreError::Backend(format!("transaction canceled: {codes:?}")));
        }
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.item.map(item_from).transpose()
    }

    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Attributes> = None;
        loop {
            let output =
                self.prefix_query(pk, sk_prefix).set_exclusive_start_key(start.take()).send().await.map_err(backend)?;
            for attrs in output.items.unwrap_or_default() {
                items.push(item_from(attrs)?);
            }
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(items),
            }
        }
    }

    async fn query_page(&self, query: PageQuery<'_>) -> Result<Page, StoreError> {
        let mut start = match (query.after, query.limit) {
            (_, 0) => return Ok(Page { items: Vec::new(), last_sk: query.after.map(str::to_owned) }),
            (None, _) => None,
            (Some(after), _) => match place_of(after, query.prefix, query.order) {
                Place::Before => None,
                // DynamoDB rejects an ExclusiveStartKey outside the key condition.
                Place::Past => return Ok(Page::default()),
                Place::Inside => Some(key(query.pk, after)),
            },
        };
        let mut items = Vec::new();
        loop {
            // Limit caps the items DynamoDB evaluates, so no page reads past what it returns;
            // a short answer (the 1 MB cap) is continued from LastEvaluatedKey.
            let remaining = i32::try_from(query.limit - items.len()).unwrap_or(i32::MAX);
            let output = self
                .prefix_query(query.pk, query.prefix)
                .limit(remaining)
                .scan_index_forward(query.order == Order::Ascending)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(backend)?;
            for attrs in output.items.unwrap_or_default() {
                items.push(item_from(attrs)?);
            }
            if items.len() >= query.limit {
                let last_sk = items.last().map(|item: &Item| item.sk.clone());
                return Ok(Page { items, last_sk });
            }
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(Page { items, last_sk: None }),
            }
        }
    }

    async fn query_index(&self, query: IndexQuery<'_>) -> Result<Page, StoreError> {
        if query.limit == 0 {
            return Ok(Page { items: Vec::new(), last_sk: query.after.map(str::to_owned) });
        }
        let (pk_name, sk_name) = query.index.attributes();
        let mut condition = "#ipk = :ipk".to_owned();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(query.index.gsi_name())
            .expression_attribute_names("#ipk", pk_name)
            .expression_attribute_values(":ipk", s(query.pk))
            .scan_index_forward(query.order == Order::Ascending);
        if let Some(after) = query.after {
            // A key condition, not an ExclusiveStartKey: that would need the
            // table key of the item too, and a marker made from a client's id has none.
            let op = if query.order == Order::Ascending { ">" } else { "<" };
            condition.push_str(&format!(" AND #isk {op} :after"));
            request =
                request.expression_attribute_names("#isk", sk_name).expression_attribute_values(":after", s(after));
        }
        let request = request.key_condition_expression(condition);
        let mut items = Vec::new();
        let mut start: Option<Attributes> = None;
        loop {
            let remaining = i32::try_from(query.limit - items.len()).unwrap_or(i32::MAX);
            let output =
                request.clone().limit(remaining).set_exclusive_start_key(start.take()).send().await.map_err(backend)?;
            for attrs in output.items.unwrap_or_default() {
                items.push(item_from(attrs)?);
            }
            if items.len() >= query.limit {
                let last_sk = items.last().and_then(|item: &Item| item.index_key(query.index)).map(|k| k.sk.clone());
                return Ok(Page { items, last_sk });
            }
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(Page { items, last_sk: None }),
            }
        }
    }

    async fn counter(&self, pk: &str, sk: &str) -> Result<i64, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .projection_expression("#counter")
            .expression_attribute_names("#counter", "counter")
            .send()
            .await
            .map_err(backend)?;
        match output.item.as_ref().and_then(|item| item.get("counter")) {
            Some(AttributeValue::N(v)) => v.parse().map_err(backend),
            _ => Ok(0),
        }
    }

    async fn write(&self, mut ops: Vec<WriteOp>) -> Result<(), StoreError> {
        match ops.len() {
            0 => Ok(()),
            1 => self.write_one(ops.remove(0)).await,
            _ => self.write_transaction(ops).await,
        }
    }

    async fn write_each(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(ops.len());
        for op in &ops {
            requests.push(match op {
                WriteOp::Put { item, condition: Condition::Always } => WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item_attributes(item))).build().map_err(backend)?)
                    .build(),
                WriteOp::Delete { pk, sk, condition: Condition::Always } => WriteRequest::builder()
                    .delete_request(DeleteRequest::builder().set_key(Some(key(pk, sk))).build().map_err(backend)?)
                    .build(),
                // Conditions and counts need a transaction.
                _ => return self.write(ops).await,
            });
        }
        self.batch_write(requests).await
    }

    async fn increment(&self, pk: &str, sk: &str) -> Result<u64, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("ADD #counter :one")
            .expression_attribute_names("#counter", "counter")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        match output.attributes.as_ref().and_then(|a| a.get("counter")) {
            Some(AttributeValue::N(v)) => v.parse().map_err(backend),
            _ => Err(StoreError::Backend("counter missing from UpdateItem result".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_key_outside_the_prefix_is_placed_by_the_direction_of_the_read() {
        assert_eq!(place_of("S#5", "S#", Order::Ascending), Place::Inside);
        assert_eq!(place_of("S#5", "", Order::Descending), Place::Inside);
        assert_eq!(place_of("R#9", "S#", Order::Ascending), Place::Before);
        assert_eq!(place_of("R#9", "S#", Order::Descending), Place::Past);
        assert_eq!(place_of("T", "S#", Order::Ascending), Place::Past);
        assert_eq!(place_of("S", "S#", Order::Descending), Place::Past);
    }

    /// Scan reads every item of the table, whatever the tenant: a request path
    /// must never pay for that, so the adapter has no call to it.
    #[test]
    fn the_adapter_never_scans_the_table() {
        let source = include_str!("dynamodb.rs");
        let call = [".scan", "("].concat();
        assert!(!source.contains(&call), "the DynamoDB adapter calls Scan");
    }
}
