ALTER TABLE "deploy_approvals" ADD COLUMN "card_channel_id" text;--> statement-breakpoint
ALTER TABLE "deploy_approvals" ADD COLUMN "card_message_id" text;--> statement-breakpoint
ALTER TABLE "deploy_approvals" ADD COLUMN "card_edit_status" text;--> statement-breakpoint
ALTER TABLE "deploy_approvals" ADD COLUMN "card_edit_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "deploy_approvals_card_edit_pending" ON "deploy_approvals" USING btree ("card_edit_status") WHERE card_edit_status = 'pending';