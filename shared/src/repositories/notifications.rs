//! Notifications and their deliveries in the table (owned by the delivery work;
//! see README "Access patterns").
