use coc_shared::routes::Operation;

#[tokio::main]
async fn main() -> Result<(), coc_shared::lambda::Error> {
    coc_shared::lambda::serve(Operation::CreateAgentActivation).await
}
