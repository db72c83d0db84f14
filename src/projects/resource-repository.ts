/**
 * The cloud resources a guild's projects stand for, and their lifecycle: the one owner of `cloud_resources`' rows
 * as the bot records and moves them, asynchronous, on either dialect (src/db/data-access.ts says how;
 * sqlite-resource-repository.ts and pg-resource-repository.ts are the two). Every read and write is scoped by guild
 * id, so another guild's resource behaves like a missing one. Status changes follow a fixed graph and are
 * compare-and-set, so two runs racing on one resource cannot both move it.
 */
import type { Session } from '../db/data-access.js';
import type { ResourceStatus } from '../db/schema.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { PgResourceRepository } from './pg-resource-repository.js';
import type { NewResource, NewTemplateDeployment, Resource } from './resource.js';
import { SqliteResourceRepository } from './sqlite-resource-repository.js';

export type { NewResource, NewTemplateDeployment, Resource, ResourceLine, SensitiveInputDeclaration } from './resource.js';
export { toResource, toResourceLine, type ResourceLineRow } from './resource-rows.js';

export interface ResourceRepository {
  /**
   * Records a planned resource in one of the guild's projects.
   * @throws ProjectNotFound when the project is not this guild's (or is archived).
   * @throws InvalidResource listing every problem with the input.
   */
  create(input: NewResource): Promise<Resource>;
  /**
   * Records a planned deployment of a template, with its own workspace folder (`<template>-<id>`) inside the project's.
   * @throws ProjectNotFound when the project is not this guild's (or is archived); InvalidResource.
   */
  createTemplateDeployment(input: NewTemplateDeployment): Promise<Resource>;
  /** The revision a template deployment was planned with, recorded by each plan. */
  setTemplateRevision(guildId: string, id: number, revision: string | null): Promise<void>;
  /** @throws ResourceNotFound — also for another guild's resource. */
  get(guildId: string, id: number): Promise<Resource>;
  /** The project's resources, oldest first. */
  listByProject(guildId: string, projectId: number): Promise<Resource[]>;
  /** The guild's resources, optionally only those in the given statuses, oldest first. */
  listByGuild(guildId: string, statuses?: readonly ResourceStatus[]): Promise<Resource[]>;
  /**
   * Moves a resource along its lifecycle (see STATUS_TRANSITIONS), optionally recording its Terraform addresses or
   * last error. Compare-and-set: if another writer moved it first, the move is judged against the new status.
   * @throws ResourceNotFound, IllegalStatusTransition.
   */
  setStatus(guildId: string, id: number, status: ResourceStatus, extra?: { addresses?: string[]; lastError?: string }): Promise<Resource>;
  /**
   * Records what the resource's plan will make, as the policy counts it from now on: its monthly estimate against
   * the budget, and its compute instances against `max_instances`. Only while it is planned: once applying, the
   * figures it was approved with stand (and count as soon as it may exist in the cloud, in the same statement that
   * moves it: the totals' triggers).
   * @throws ResourceNotFound; IllegalStatusTransition when it is no longer planned.
   */
  setPlannedFigures(guildId: string, id: number, figures: { monthlyUsd: number; computeInstances: number }): Promise<Resource>;
}

/** The resource repository of the session's dialect. */
export function resourceRepositoryFor(session: Session, clock: Clock = systemClock): ResourceRepository {
  return session.dialect === 'sqlite' ? new SqliteResourceRepository(session, clock) : new PgResourceRepository(session, clock);
}
