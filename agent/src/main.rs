#[tokio::main]
async fn main() {
    coc_shared::logging::init();
    let config = match coc_agent::Config::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("coc-agent: {message}");
            std::process::exit(2);
        }
    };
    if let Err(message) = coc_agent::run(config).await {
        eprintln!("coc-agent: {message}");
        std::process::exit(1);
    }
}
