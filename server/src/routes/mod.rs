pub mod monitor;
pub mod quote;
pub mod udf;
