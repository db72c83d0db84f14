CREATE TABLE "budget_holds" (
	"guild_id" text NOT NULL,
	"resource_id" bigint NOT NULL,
	"monthly_usd" double precision NOT NULL,
	"vms" integer NOT NULL,
	"owner" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "budget_holds_guild_id_resource_id_pk" PRIMARY KEY("guild_id","resource_id")
);
--> statement-breakpoint
CREATE TABLE "workspace_leases" (
	"guild_id" text NOT NULL,
	"workspace" text NOT NULL,
	"run_id" integer NOT NULL,
	"kind" text NOT NULL,
	"started_by" text NOT NULL,
	"since" bigint NOT NULL,
	"owner" text NOT NULL,
	"token" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "workspace_leases_guild_id_workspace_pk" PRIMARY KEY("guild_id","workspace")
);
--> statement-breakpoint
CREATE INDEX "budget_holds_owner" ON "budget_holds" USING btree ("owner");--> statement-breakpoint
CREATE INDEX "workspace_leases_owner" ON "workspace_leases" USING btree ("owner");