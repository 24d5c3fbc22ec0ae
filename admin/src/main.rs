//! `coc-admin`: what an operator does outside the API. It works on the same
//! store the API uses: DynamoDB when COC_TABLE_NAME is set, otherwise the
//! embedded store in COC_DATA_DIR (safe while `make run` is serving it).

use clap::{Parser, Subcommand};
use coc_runtime::adapters::dynamodb::DynamoStore;
use coc_runtime::environment::app_from_env;
use coc_shared::auth::agents::{self, ActivationRequest};
use coc_shared::auth::{issue_token, Credential};
use coc_shared::clock::iso8601;
use coc_shared::clock::now_ms;
use coc_shared::domain::tenant::{Caller, ProjectId};
use coc_shared::repositories::{credentials, reindex};
use serde_json::json;

#[derive(Parser)]
#[command(name = "coc-admin", about = "Operator commands for the COC API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates an access key (AK/SK) for a user of a project; prints it once as JSON.
    CreateCredential {
        #[arg(long)]
        project_id: String,
        #[arg(long, default_value = "admin")]
        user_id: String,
        /// Defaults to the user id.
        #[arg(long)]
        user_name: Option<String>,
    },
    /// Issues an X-Auth-Token (valid 24 hours) acting as the owner of an access key; prints it as JSON.
    IssueToken {
        #[arg(long)]
        access_key: String,
    },
    /// Creates an activation with which agents register themselves into a project
    /// (COC_ACTIVATION_ID / COC_ACTIVATION_CODE of `coc-agent`); prints its code once as JSON.
    CreateActivation {
        #[arg(long)]
        project_id: String,
        /// How many agents it may register (1 to 1000).
        #[arg(long, default_value_t = 1)]
        max_registrations: u32,
        /// How long it is valid, in seconds (60 to 2592000 = 30 days).
        #[arg(long, default_value_t = agents::DEFAULT_ACTIVATION_LIFETIME_SECS)]
        expires_in_secs: u64,
    },
    /// Revokes an agent: its credential stops working at once.
    RevokeAgent {
        #[arg(long)]
        project_id: String,
        #[arg(long)]
        agent_sn: String,
    },
    /// Lists an access key made before engineer synchronization existed under its
    /// tenant's users, so that `POST /v1/engineers/sync` sees its user.
    IndexCredential {
        #[arg(long)]
        access_key: String,
    },
    /// Gives a project's scripts and tickets written by versions before list
    /// indexes and counters their index keys and counts (lists skip them until
    /// then). Safe to run again and while the API serves; prints what it did as JSON.
    Reindex {
        #[arg(long)]
        project_id: String,
    },
    /// Creates the DynamoDB table named by COC_TABLE_NAME with the key schema of template.yaml
    /// (for DynamoDB Local; on AWS, SAM creates it).
    CreateTable,
}

async fn run(cli: Cli) -> Result<serde_json::Value, String> {
    match cli.command {
        Command::CreateTable => {
            let table = std::env::var("COC_TABLE_NAME").map_err(|_| "COC_TABLE_NAME is not set".to_owned())?;
            DynamoStore::from_env(table.clone()).await.create_table().await.map_err(|e| e.to_string())?;
            Ok(json!({ "table": table }))
        }
        Command::CreateCredential { project_id, user_id, user_name } => {
            let app = app_from_env().await?;
            let project = ProjectId::parse(project_id).map_err(|e| format!("--project-id {e}"))?;
            let user_name = user_name.unwrap_or_else(|| user_id.clone());
            let credential = Credential::generate(project, user_id, user_name, now_ms());
            credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.map_err(|e| e.to_string())?;
            Ok(json!({
                "access_key": credential.access_key,
                "secret_key": credential.secret_key,
                "project_id": credential.project_id,
                "user_id": credential.user_id,
                "user_name": credential.user_name,
            }))
        }
        Command::CreateActivation { project_id, max_registrations, expires_in_secs } => {
            let app = app_from_env().await?;
            let operator = Caller {
                project_id: ProjectId::parse(project_id).map_err(|e| format!("--project-id {e}"))?,
                user_id: "coc-admin".into(),
                user_name: "coc-admin".into(),
                agent_sn: None,
            };
            let wanted = ActivationRequest {
                max_registrations: Some(max_registrations),
                expires_in_seconds: Some(expires_in_secs),
            };
            let created = agents::create_activation(app.store.as_ref(), &operator, &wanted, now_ms())
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({
                "activation_id": created.activation.activation_id,
                "activation_code": created.code,
                "project_id": created.activation.project_id,
                "max_registrations": created.activation.max_registrations,
                "expires_at": iso8601(created.activation.expires_at),
            }))
        }
        Command::RevokeAgent { project_id, agent_sn } => {
            let app = app_from_env().await?;
            let project = ProjectId::parse(project_id).map_err(|e| format!("--project-id {e}"))?;
            if !agents::revoke(app.store.as_ref(), &project, &agent_sn).await.map_err(|e| e.to_string())? {
                return Err(format!("agent {agent_sn} is not registered in project {project}"));
            }
            Ok(json!({ "revoked": agent_sn }))
        }
        Command::IndexCredential { access_key } => {
            let app = app_from_env().await?;
            if !credentials::reindex(app.store.as_ref(), &access_key).await.map_err(|e| e.to_string())? {
                return Err(format!("access key {access_key} is unknown"));
            }
            Ok(json!({ "indexed": access_key }))
        }
        Command::Reindex { project_id } => {
            let app = app_from_env().await?;
            let project = ProjectId::parse(project_id).map_err(|e| format!("--project-id {e}"))?;
            let done = reindex::reindex(app.store.as_ref(), &project).await.map_err(|e| e.to_string())?;
            let mut output = serde_json::to_value(done).map_err(|e| e.to_string())?;
            output["project_id"] = json!(project);
            Ok(output)
        }
        Command::IssueToken { access_key } => {
            let app = app_from_env().await?;
            let credential = credentials::get(app.store.as_ref(), &app.secrets, &access_key)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("access key {access_key} is unknown"))?;
            let (token, record) = issue_token(&credential, now_ms());
            credentials::insert_token(app.store.as_ref(), &token, &record).await.map_err(|e| e.to_string())?;
            Ok(json!({ "token": token, "expires_at_ms": record.expires_at, "project_id": record.project_id }))
        }
    }
}

#[tokio::main]
async fn main() {
    match run(Cli::parse()).await {
        Ok(output) => println!("{output}"),
        Err(message) => {
            eprintln!("coc-admin: {message}");
            std::process::exit(1);
        }
    }
}
