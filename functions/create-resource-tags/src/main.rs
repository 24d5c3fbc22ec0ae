use coc_runtime::lambda::Endpoint;
use coc_shared::routes::Operation;

/// A `const`: the handler is picked at compile time, so it is the only one linked in.
const ENDPOINT: Endpoint = Endpoint::of(Operation::CreateResourceTags);

#[tokio::main]
async fn main() -> Result<(), coc_runtime::lambda::Error> {
    coc_runtime::lambda::serve(ENDPOINT).await
}
