pub mod udf;
