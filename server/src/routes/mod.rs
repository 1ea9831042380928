pub mod monitor;
pub mod udf;
