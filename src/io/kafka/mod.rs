//! Kafka through rdkafka (librdkafka 2.12), the only place its types appear: connection
//! settings and profiles ([`config`]), clients, a producer with delivery accounting and topic
//! creation ([`client`]), the one way the commands and the console read ([`input`], over
//! [`resuming`]), the console's reading thread ([`feed`]) and its promotion sink ([`sink`]).

pub mod client;
pub mod config;
pub mod feed;
pub mod input;
pub mod outputs;
pub mod resuming;
pub mod sink;
